"""User actions that change the library (albums, folders, tags, query edits), run through the task runner."""
