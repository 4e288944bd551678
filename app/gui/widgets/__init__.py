"""Widgets and item models the windows are built from; they hold no library logic of their own."""
