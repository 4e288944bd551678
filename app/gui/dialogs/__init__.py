"""Dialogs and secondary windows (viewer, review queue, welcome, settings, models...)."""
