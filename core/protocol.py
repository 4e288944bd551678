"""The process protocol: exit codes and the trainer's event names, shared by every side that speaks it.

The command line returns these exit codes, the trainer (`python -m photosift.training`) returns them and
writes the events as JSON lines (`{"event": NAME, ...}`), and the fine-tuning wizard reads both from its
QProcess. It lives in core because all three import core and none may import another (training never
imports app), and it imports nothing, so `photosift --help` stays light.
"""

from __future__ import annotations

from typing import Final

EXIT_OK: Final = 0
EXIT_USER: Final = 1  # the person can fix it: the sentence on stderr (or the "error" event) says how
EXIT_USAGE: Final = 2  # the command line itself was wrong (argparse's own code)
EXIT_ENVIRONMENT: Final = 3  # the machine got in the way: disk, memory, permissions, no display
EXIT_BUG: Final = 4  # an internal error; the traceback is in the log
EXIT_STOPPED: Final = 75  # EX_TEMPFAIL: the trainer stopped on request and can resume
EXIT_INTERRUPTED: Final = 130  # Ctrl-C (128 + SIGINT), as shells report it

# The interpreter arguments that start the trainer: `python -m photosift.training`, except that the current
# directory is taken off the module path first. `-m` puts it in front, so a folder there named like our
# package (a decoy `photosift/`) would be run instead of the trainer; `-P` does the same but needs 3.11.
TRAINER_ARGS: Final = (
    "-c",
    "import runpy, sys; sys.path.pop(0); runpy.run_module('photosift.training', run_name='__main__', alter_sys=True)",
)

# Trainer events, one per JSON line on the trainer's stdout.
EVENT_START: Final = "start"  # a run begins: its settings and split sizes
EVENT_RECIPE: Final = "recipe"  # the settings the run resolved for its collection (size, device)
EVENT_PLAN: Final = "plan"  # --plan: what a run would train on
EVENT_PLAN_DONE: Final = "plan_done"
EVENT_SPEED: Final = "speed"  # measured images per second on this device
EVENT_CAPTIONS: Final = "captions"  # caption coverage of the training photos
EVENT_CAPTION_COVERAGE: Final = "caption_coverage"
EVENT_STAGE: Final = "stage"  # stage "a" (image tower) or "b" (text re-alignment) starts
EVENT_STAGE_DONE: Final = "stage_done"
EVENT_REALIGN_CACHE: Final = "realign_cache"  # stage "b": whether the frozen text blocks' outputs were kept
EVENT_STEP: Final = "step"  # one optimiser step: loss, learning rate
EVENT_EVAL: Final = "eval"  # a mAP measurement (before, per epoch, after)
EVENT_PROGRESS: Final = "progress"  # a core progress callback, relayed
EVENT_BATCH_SIZE: Final = "batch_size"  # the batch size that fits in memory
EVENT_RESUMED: Final = "resumed"
EVENT_WARNING: Final = "warning"
EVENT_DONE: Final = "done"  # the model was exported; "spec" names its spec file
EVENT_ERROR: Final = "error"  # "kind" is user, environment or bug, matching the exit code

EVENTS: Final = frozenset(
    {
        EVENT_START,
        EVENT_RECIPE,
        EVENT_PLAN,
        EVENT_PLAN_DONE,
        EVENT_SPEED,
        EVENT_CAPTIONS,
        EVENT_CAPTION_COVERAGE,
        EVENT_STAGE,
        EVENT_STAGE_DONE,
        EVENT_REALIGN_CACHE,
        EVENT_STEP,
        EVENT_EVAL,
        EVENT_PROGRESS,
        EVENT_BATCH_SIZE,
        EVENT_RESUMED,
        EVENT_WARNING,
        EVENT_DONE,
        EVENT_ERROR,
    }
)
