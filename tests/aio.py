"""Running a test's coroutine to completion from synchronous test code."""

import asyncio
from collections.abc import Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")


def run_async(coroutine: Coroutine[Any, Any, T]) -> T:
    """`asyncio.run` on a thread of its own. The browser tests' Playwright keeps an event loop
    running on the main thread for the rest of the session, and `asyncio.run` refuses to start
    beside it, so a test that ran it directly failed whenever it came after a browser test."""
    with ThreadPoolExecutor(1, thread_name_prefix="test-event-loop") as pool:
        return pool.submit(asyncio.run, coroutine).result()
