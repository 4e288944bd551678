"""The `photosift` command line: the parser, and the dispatch that turns errors into sentences.

Errors read as sentences on stderr with the exit codes of `core.protocol`, never tracebacks (a bug is
reported as such, its traceback in the log). Each command's module is imported when it runs, so
`--help`, `status` and the listings load no model stack.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
from collections.abc import Mapping, Sequence

from photosift.app.cli import albums, duplicates, eval, library, marks, models, search, tags, text, train
from photosift.app.cli.common import Handler, add_search_options
from photosift.app.errorlog import configure_logging, log_details, log_exception
from photosift.app.main import end_process
from photosift.core.errors import Cancelled, EnvironmentFault, PhotosiftError, UserError
from photosift.core.protocol import EXIT_BUG, EXIT_ENVIRONMENT, EXIT_INTERRUPTED, EXIT_USER
from photosift.core.settings import Paths, load_settings


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--json", action="store_true", help="print machine-readable JSON")
    common.add_argument("--model", help="model name or path to a model spec JSON (default: the selected model)")
    common.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], help="where to run the model")
    common.add_argument(
        "--cpu-runtime",
        choices=["auto", "int8", "torch"],
        help="on a CPU: onnxruntime where the export works, the same with int8 image weights (faster on CPUs with"
        " VNNI, slightly approximate), or torch",
    )
    common.add_argument("--verbose", action="store_true", help="print the details of an error, not only its summary")
    parser = argparse.ArgumentParser(
        prog="photosift",
        description="Search your photos by what is in them. With no command, opens the Photosift window.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def add(name: str, handler: Handler, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, parents=[common], help=help_text, description=help_text)
        p.set_defaults(handler=handler)
        return p

    index = add("index", library.cmd_index, "add folders (if given) and index new and changed photos")
    index.add_argument("paths", nargs="*", help="photo folders to add; with none, rescan all")
    index.add_argument("--retry-failed", action="store_true", help="try again the photos that could not be read")
    index.add_argument("--no-ocr", action="store_true", help="skip reading the text in photos after indexing")
    add("text", text.cmd_text, "print the text read from a photo (#id or path)").add_argument("photo")
    query = add("search", search.cmd_search, 'search by text and images, e.g. "2:beach" + ./me.jpg - crowd')
    query.add_argument("query", nargs="+")
    query.epilog = search.FILTERS_HELP
    add_search_options(query)
    query.add_argument(
        "--explain", action="store_true", help="with each result, why it matched: term scores, filters, tags, place"
    )
    similar = add("similar", search.cmd_similar, "find photos similar to a photo (path or #id) or any image file")
    similar.add_argument("photo")
    add_search_options(similar)
    status = add("status", library.cmd_status, "folders, counts, failures, model and index health")
    status.add_argument("--failures", action="store_true", help="list photos that could not be read, with the reason")
    status.add_argument(
        "--all", action="store_true", help="with --failures: also files left out on purpose (pipes, ...)"
    )
    add("remove", library.cmd_remove, "stop indexing a folder (its files are not touched)").add_argument("path")
    watch = add("watch", library.cmd_watch, "keep the library up to date as folders change")
    watch.add_argument("--polling", action="store_true", help="poll instead of file events (network shares)")
    watch.add_argument("--no-ocr", action="store_true", help="do not read the text in new photos")
    eval.add_eval_arguments(add("eval", eval.cmd_eval, eval.HELP))
    models.add_models_parser(sub, common)
    albums.add_albums_parser(sub, common)
    tags.add_tags_parser(sub, common)
    marks.add_marks_parser(sub, common)
    duplicates.add_duplicates_parser(sub, common)
    train.add_train_parser(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `photosift` console script and of `python -m photosift.app`."""
    configure_logging(Paths.default())
    for stream in (sys.stdout, sys.stderr):  # file names that are not UTF-8 print as the bytes they are, as ls does
        if isinstance(stream, io.TextIOWrapper):
            stream.reconfigure(errors="surrogateescape")
    code = run(list(sys.argv[1:] if argv is None else argv))
    if "torch" in sys.modules:  # the command has closed its library; skip the ML stack's slow teardown
        end_process(code)
    return code


def run(argv: list[str]) -> int:
    """Run one command; returns its exit code."""
    parser = build_parser()
    # The trainer's options belong to `python -m photosift.training` (see `photosift train --help`): they
    # arrive here as unknown arguments, in order, and are passed on.
    args, unknown = parser.parse_known_args(argv)
    if args.command == "train":
        args.options = unknown
    elif unknown:
        parser.error(f"unrecognized arguments: {' '.join(unknown)}")
    paths = Paths.default()
    try:
        if args.command is None:
            return _open_window(paths)
        handler: Handler = args.handler
        return handler(args, paths, load_settings(paths))
    except (Cancelled, KeyboardInterrupt):
        print("Stopped.", file=sys.stderr)
        return EXIT_INTERRUPTED
    except (UserError, EnvironmentFault) as exc:
        _report(exc, paths, getattr(args, "verbose", False))
        return EXIT_USER if isinstance(exc, UserError) else EXIT_ENVIRONMENT
    except OSError as exc:
        print(f"photosift: {exc.strerror or exc} ({exc.filename or 'no file name'})", file=sys.stderr)
        return EXIT_ENVIRONMENT
    except Exception as exc:  # a bug: keep the traceback in the log, show a sentence
        log_file = log_exception(paths, exc)
        print(f"photosift: internal error ({type(exc).__name__}: {exc}). Details are in {log_file}.", file=sys.stderr)
        return EXIT_BUG


def _report(error: PhotosiftError, paths: Paths, verbose: bool) -> None:
    """The error's sentence on stderr; its details in the log, and on stderr too with --verbose."""
    print(f"photosift: {error}", file=sys.stderr)
    if error.details:
        log = log_details(paths, str(error), error.details)
        print(error.details if verbose else f"The details are in {log} (or add --verbose).", file=sys.stderr)


def _open_window(paths: Paths) -> int:
    """`photosift` alone opens the desktop app, where there is a screen to open it on."""
    problem = display_problem(os.environ, sys.platform)
    if problem:
        print(
            f"photosift: there is no display to open the window on ({problem}). "
            "Use a command instead, such as `photosift search TEXT`; `photosift --help` lists them.",
            file=sys.stderr,
        )
        return EXIT_ENVIRONMENT
    from photosift.app.gui.app import run_gui

    end_process(run_gui(paths, load_settings(paths)))  # background work whose result is thrown away ends here


def display_problem(environ: Mapping[str, str], platform: str) -> str | None:
    """Why Qt has no screen a person can see, or None. Without DISPLAY or WAYLAND_DISPLAY Qt aborts the
    process; with QT_QPA_PLATFORM=offscreen (or minimal) it draws a window nobody sees and waits for ever."""
    if platform in ("win32", "darwin"):
        return None
    qpa = environ.get("QT_QPA_PLATFORM", "").split(":")[0]
    if qpa in ("offscreen", "minimal"):
        return f"QT_QPA_PLATFORM={qpa} draws windows nobody can see"
    if qpa == "xcb" and not environ.get("DISPLAY"):
        return "QT_QPA_PLATFORM=xcb but DISPLAY is unset"
    if qpa == "wayland" and not environ.get("WAYLAND_DISPLAY"):
        return "QT_QPA_PLATFORM=wayland but WAYLAND_DISPLAY is unset"
    if qpa or environ.get("DISPLAY") or environ.get("WAYLAND_DISPLAY"):
        return None
    return "DISPLAY and WAYLAND_DISPLAY are unset"
