"""An ordered parallel map that keeps only a few calls in flight, for per-file work (decoding, fingerprinting)."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Generator, Iterable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def map_ahead(
    fn: Callable[[T], R], items: Iterable[T], workers: int, lookahead: int, name: str
) -> Generator[R, None, None]:
    """Yield `fn(item)` for each item in order, computed on `workers` threads named `name`, with at most
    `lookahead` calls submitted ahead of the consumer.

    `Executor.map` submits every item at once. Fingerprinting the 10,100 files of a first scan that way
    kept about 8,500 futures alive, some 120,000 objects for the garbage collector with their locks and
    callbacks: a full collection over them held the GIL 27 ms and stalled the window
    (benchmarks/bench_gui.py). Here memory stays bounded, and closing the generator early (a cancelled
    run) leaves only the calls in flight to finish, not every queued item.
    """
    with ThreadPoolExecutor(workers, thread_name_prefix=name) as pool:
        window: deque[Future[R]] = deque()
        try:
            for item in items:
                window.append(pool.submit(fn, item))
                if len(window) >= lookahead:
                    yield window.popleft().result()
            while window:
                yield window.popleft().result()
        finally:
            for future in window:
                future.cancel()
