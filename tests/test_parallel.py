"""map_ahead: in order, bounded look-ahead, and an early stop that leaves queued items unrun."""

from __future__ import annotations

import threading
import time
from contextlib import closing

import pytest

from photosift.core.parallel import map_ahead


def test_results_come_in_order_whatever_order_they_finish_in() -> None:
    def slow_for_small(n: int) -> int:
        time.sleep(0.002 * (5 - n % 5))  # later items finish first within each group of five
        return n * n

    assert list(map_ahead(slow_for_small, range(40), workers=4, lookahead=10, name="t")) == [n * n for n in range(40)]


def test_at_most_lookahead_calls_run_ahead_of_the_consumer() -> None:
    started: list[int] = []
    lock = threading.Lock()

    def record(n: int) -> int:
        with lock:
            started.append(n)
        return n

    for consumed, _ in enumerate(map_ahead(record, range(500), workers=3, lookahead=8, name="t")):
        time.sleep(0.0005)  # a slow consumer: the workers would race ahead if nothing held them back
        with lock:
            assert len(started) <= consumed + 8


def test_stopping_early_leaves_the_queued_items_unrun() -> None:
    started: list[int] = []
    results = map_ahead(started.append, range(10_000), workers=2, lookahead=16, name="t")
    with closing(results):
        for taken, _ in enumerate(results, start=1):
            if taken == 3:
                break
    time.sleep(0.05)  # anything still queued would run now
    assert len(started) <= 3 + 16


def test_an_error_surfaces_at_its_own_item() -> None:
    def fail_on_five(n: int) -> int:
        if n == 5:
            raise ValueError("five")
        return n

    results = map_ahead(fail_on_five, range(20), workers=2, lookahead=4, name="t")
    assert [next(results) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="five"):
        next(results)
