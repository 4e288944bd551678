"""`photosift train`: fine-tune a model in the trainer's own process (`python -m photosift.training`, which reports
JSON lines on stdout), on a folder with one subfolder per class, or on the library's own labels.

    photosift train --data FOLDER [trainer options]
    photosift train --labels folders|parent-folders|tags|albums [--exclude CLASS ...] [--dry-run] [trainer options]

With --labels, the classes are listed with their counts and warnings (on stderr, so stdout stays JSON
lines; on stdout with --dry-run, which stops there), written to a manifest in the data folder's `labels/`,
and the trainer runs on that manifest.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from typing import TYPE_CHECKING, Any, TextIO, get_args

from photosift.core.errors import UserError
from photosift.core.protocol import EXIT_OK, EXIT_USER, TRAINER_ARGS
from photosift.core.settings import Paths, Settings

if TYPE_CHECKING:
    from photosift.core.training_sets import LabelledSet, LabelWarning

LABELS_HELP = """\
photosift train --labels folders|parent-folders|tags|albums [--exclude CLASS ...] [--dry-run] [trainer options]
  Train on the library's own labels instead of --data, one class each: its folders' sub-folders (the
  photos anywhere below each), the folders holding the photos by name (parent-folders: train/ants and
  val/ants are one class "ants"), your accepted tags, or its albums. --exclude leaves a class out
  (repeat it for more); --dry-run lists the classes with their counts and warnings, and stops. The
  trainer's options follow.
"""


def add_train_parser(sub: Any) -> None:
    # No help of its own: `photosift train --help` shows LABELS_HELP, then the trainer's help.
    train = sub.add_parser(
        "train", add_help=False, help="fine-tune a model on labelled photos (python -m photosift.training)"
    )
    train.add_argument(
        "--labels", type=label_source, help="train on the library's own labels: folders, parent-folders, tags or albums"
    )
    train.add_argument("--exclude", action="append", default=[], metavar="CLASS", help="leave this class out")
    train.add_argument("--dry-run", action="store_true", help="list the classes and warnings, and stop")
    train.set_defaults(handler=cmd_train, options=[])


def label_source(text: str) -> str:
    """A --labels value (checked when given, so that building the parser loads no catalog code)."""
    from photosift.core.training_sets import LabelSource

    if text not in get_args(LabelSource):
        raise argparse.ArgumentTypeError(f"{text!r} is not one of {', '.join(get_args(LabelSource))}")
    return text


def cmd_train(args: argparse.Namespace, paths: Paths, settings: Settings) -> int:
    """Run the trainer on --data as given, or on a manifest of the library's labels; pass on its exit code."""
    if args.labels is None:
        if args.exclude or args.dry_run:
            raise UserError("--exclude and --dry-run choose among the library's labels: add --labels.")
        if {"-h", "--help"} & set(args.options):
            print(LABELS_HELP)
        return _run_trainer(args.options)
    if any(option == "--data" or option.startswith("--data=") for option in args.options):
        raise UserError("Train on either --labels or --data, not both.")
    from photosift.app.main import build_library
    from photosift.core.training_sets import check_labelled_set, labelled_set, write_manifest

    with build_library(paths, settings) as library:
        labelled = labelled_set(library, args.labels).without(args.exclude)
        warnings = check_labelled_set(labelled, _min_per_class(args.options))
        _print_classes(labelled, warnings, sys.stdout if args.dry_run else sys.stderr)
        errors = [w for w in warnings if w.severity == "error"]
        if args.dry_run:
            return EXIT_USER if errors else EXIT_OK
        if errors:
            raise UserError(errors[0].message)
        manifest = write_manifest(library, labelled)
    print(f"Training on {manifest}", file=sys.stderr, flush=True)
    return _run_trainer(["--data", str(manifest), *args.options])


def _run_trainer(options: list[str]) -> int:
    return subprocess.call([sys.executable, *TRAINER_ARGS, *options])


def _min_per_class(options: list[str]) -> int:
    """The trainer's --min-images-per-class, if given, so the listing warns where the trainer will."""
    from photosift.core.training_sets import MIN_PER_CLASS

    parser = argparse.ArgumentParser(add_help=False)
    parser.add_argument("--min-images-per-class", type=int, default=MIN_PER_CLASS)
    known, _ = parser.parse_known_args(options)
    return int(known.min_images_per_class)


def _print_classes(labelled: LabelledSet, warnings: list[LabelWarning], out: TextIO) -> None:
    """Each class with the photos it trains on and what is wrong with it, then what is wrong overall."""
    from photosift.core.training_sets import SOURCE_WORDS
    from photosift.core.wording import plural

    counts = {c.name: len(c.photo_ids) for c in labelled.exclusive().classes}
    photos = plural(sum(counts.values()), "photo")
    print(f"{plural(len(counts), 'class')} from the library's {SOURCE_WORDS[labelled.source]}, {photos}:", file=out)
    for name, count in counts.items():
        print(f"{count:>7}  {name}", file=out)
        for w in warnings:
            if w.class_name == name:
                print(f"         {w.severity}: {w.message}", file=out)
    for w in warnings:
        if w.class_name is None:
            print(f"{w.severity}: {w.message}", file=out)
