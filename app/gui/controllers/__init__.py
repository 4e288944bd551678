"""Long-lived objects that connect the window to the library: live search, indexing, first run, settings."""
