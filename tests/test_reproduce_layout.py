"""The MCIP reproduction's data layout (benchmarks/reproduce/layout.py): symlink folders built once, also
when several reproduction processes start at once."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
CLASSES = ("n01", "n02", "n03", "n04")


@pytest.fixture
def layout(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """The benchmark's module, imported as reproduce_mcip.py imports it (from the benchmarks folder)."""
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))
    from reproduce import layout

    return layout


def sources(root: Path) -> tuple[Path, Path]:
    """A training and an evaluation source of four classes (empty files: the layout only links them)."""
    for name, count in (("train", 6), ("val", 3)):
        for wnid in CLASSES:
            (root / name / wnid).mkdir(parents=True)
            for i in range(count):
                (root / name / wnid / f"{wnid}_{i}.jpg").touch()
    return root / "train", root / "val"


def linked(folder: Path) -> set[str]:
    return {f"{p.parent.name}/{p.name}" for p in folder.glob("*/*.jpg") if p.is_symlink()}


def test_two_processes_building_one_layout_at_once_both_get_it_whole(
    layout: ModuleType, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Both builders are held inside their first link until the other is there too, as when two methods'
    processes start together: the old code linked both into one folder and one died on FileExistsError."""
    train, val = sources(tmp_path)
    split = layout.Split(pretrain=(0, 2), finetune=(2, 6), held_out=(0, 3))
    together = threading.Barrier(2, timeout=10)
    link: Callable[..., None] = layout._link

    def link_together(photos: list[Path], span: tuple[int, int], folder: Path) -> None:
        if photos and photos[0].name == f"{CLASSES[0]}_0.jpg" and photos[0].parent.parent == val:
            together.wait()  # both builders are past the check for a complete layout and linking
        link(photos, span, folder)

    monkeypatch.setattr(layout, "_link", link_together)
    built: list[object] = []
    failed: list[BaseException] = []

    def build() -> None:
        try:
            built.append(layout.build_layout(train, val, tmp_path / "data", split))
        except BaseException as exc:  # reported below, with the thread's exception
            failed.append(exc)

    threads = [threading.Thread(target=build) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert failed == [] and len(built) == 2 and built[0] == built[1]
    result = built[0]
    seen, unseen = linked(result.eval_seen), linked(result.eval_unseen)  # type: ignore[attr-defined]
    assert len(seen) == len(unseen) == 6 and {s.split("/")[0] for s in seen | unseen} == set(CLASSES)
    assert len(linked(result.finetune)) == 8  # type: ignore[attr-defined]  # 4 fine-tuning photos of 2 seen classes
    assert [p.name for p in (tmp_path / "data").iterdir()] == [result.root.name]  # type: ignore[attr-defined]


def test_a_layout_left_half_linked_is_rebuilt(layout: ModuleType, tmp_path: Path) -> None:
    train, val = sources(tmp_path)
    split = layout.Split(pretrain=(0, 2), finetune=(2, 6), held_out=(0, 3))
    first = layout.build_layout(train, val, tmp_path / "data", split)
    (first.root / layout.COMPLETE).unlink()  # as a run of the old code stopped while linking leaves it
    (first.eval_seen / CLASSES[0]).rename(tmp_path / "gone")
    again = layout.build_layout(train, val, tmp_path / "data", split)
    assert (again.root / layout.COMPLETE).is_file() and len(linked(again.eval_seen)) == 6
    assert [p.name for p in (tmp_path / "data").iterdir()] == [again.root.name]
