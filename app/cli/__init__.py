"""The `photosift` command line: `main()` is the console script; `run(argv)` returns the exit code (see
`core.protocol`)."""

from photosift.app.cli.main import main, run

__all__ = ["main", "run"]
