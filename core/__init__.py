"""Photosift's core library: catalog, scanner, models, indexing and search.

A plain Python library with no GUI code: the desktop app, the command line, the trainer and the tests
all drive it through the same API (see `core.library.Library`).
"""
