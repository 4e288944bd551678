"""Photosift's front ends: the command line and (in a later release) the desktop app."""
