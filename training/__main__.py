"""`python -m photosift.training`: fine-tune a model on a folder of labelled photos; progress as JSON lines.

    python -m photosift.training --data PHOTOS --method mcip [--config run.yaml] [--epochs 3 ...]
    python -m photosift.training --resume RUN_FOLDER
    python -m photosift.training --data PHOTOS ... --plan   # report split, caption coverage and speed; no training

Exit codes: 0 finished, 1 a problem with the data or settings (the "error" line says what), 3 the
machine got in the way (memory, disk), 4 a bug, 75 stopped by a signal (resume with --resume).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from collections.abc import Sequence
from pathlib import Path

from photosift.core.errors import Cancelled, EnvironmentFault, UserError
from photosift.core.progress import CancelToken
from photosift.core.protocol import EVENT_ERROR, EXIT_BUG, EXIT_ENVIRONMENT, EXIT_OK, EXIT_STOPPED, EXIT_USER
from photosift.core.settings import Paths
from photosift.training.config import SMALL_COLLECTION, add_config_arguments, load_config
from photosift.training.plan import plan
from photosift.training.report import JsonLines
from photosift.training.run import execute, make_runtime
from photosift.training.runtime import cancel_on_signals


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m photosift.training", description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="a YAML file of settings (command-line options win)")
    parser.add_argument("--resume", type=Path, help="continue the run in this folder with its saved settings")
    parser.add_argument("--plan", action="store_true", help="report what a run would train on, then exit")
    parser.add_argument(
        "--small-collection",
        action="store_true",
        help="start from settings for hundreds to thousands of photos instead of the paper's (see SMALL_COLLECTION)",
    )
    add_config_arguments(parser)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    report, stop = JsonLines(), CancelToken()
    cancel_on_signals(stop)
    try:
        if args.resume is not None:
            config = load_config(args.resume / "config.json", {"output": str(args.resume)})
        else:
            own = ("config", "resume", "plan", "small_collection")
            overrides = {k: v for k, v in vars(args).items() if k not in own}
            config = load_config(args.config, overrides, SMALL_COLLECTION if args.small_collection else None)
        paths = Paths.default()
        paths.ensure()
        if args.plan:
            plan(config, paths, make_runtime(config, paths, report, stop))
            return EXIT_OK
        result = execute(config, paths, make_runtime(config, paths, report, stop))
        return EXIT_OK if result.finished else EXIT_STOPPED
    except Cancelled:
        return EXIT_STOPPED
    except UserError as exc:
        report(EVENT_ERROR, kind="user", message=str(exc))
        return EXIT_USER
    except EnvironmentFault as exc:
        report(EVENT_ERROR, kind="environment", message=str(exc))
        return EXIT_ENVIRONMENT
    except Exception as exc:  # a bug: the whole traceback goes to the log the GUI shows
        report(EVENT_ERROR, kind="bug", message=f"{type(exc).__name__}: {exc}", traceback=traceback.format_exc())
        return EXIT_BUG


if __name__ == "__main__":
    sys.exit(main())
