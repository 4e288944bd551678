"""map_ahead: in order, bounded look-ahead, and an early stop that leaves queued items unrun."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
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
    ran = threading.Condition()

    def record(n: int) -> int:
        with ran:
            started.append(n)
            ran.notify_all()
        return n

    for consumed, _ in enumerate(map_ahead(record, range(100), workers=3, lookahead=8, name="t")):
        with ran:
            # The workers run all they were given (every item, were nothing holding them back) before the check.
            assert ran.wait_for(lambda consumed=consumed: len(started) >= min(consumed + 8, 100), timeout=10)
            assert len(started) == min(consumed + 8, 100)


def test_stopping_early_leaves_the_queued_items_unrun(monkeypatch: pytest.MonkeyPatch) -> None:
    started: list[int] = []
    gate = threading.Event()

    def held(n: int) -> None:
        started.append(n)
        if n >= 3:  # the workers hold these while the queue behind them fills
            assert gate.wait(10)

    # The pool's shutdown (which waits for the running calls) opens the gate: by then the generator has
    # cancelled what was queued, so nothing but the calls already running can start afterwards.
    shutdown = ThreadPoolExecutor.shutdown

    def open_then_shut(pool: ThreadPoolExecutor, wait: bool = True, **kwargs: bool) -> None:
        gate.set()
        shutdown(pool, wait, **kwargs)

    monkeypatch.setattr(ThreadPoolExecutor, "shutdown", open_then_shut)
    results = map_ahead(held, range(10_000), workers=2, lookahead=16, name="t")
    with closing(results):
        for taken, _ in enumerate(results, start=1):
            if taken == 3:
                break
    assert {0, 1, 2} <= set(started) and len(started) <= 3 + 2  # the three taken, and at most one per worker


def test_an_error_surfaces_at_its_own_item() -> None:
    def fail_on_five(n: int) -> int:
        if n == 5:
            raise ValueError("five")
        return n

    results = map_ahead(fail_on_five, range(20), workers=2, lookahead=4, name="t")
    assert [next(results) for _ in range(5)] == [0, 1, 2, 3, 4]
    with pytest.raises(ValueError, match="five"):
        next(results)
