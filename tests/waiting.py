"""Waiting on real services in tests: poll a condition until it holds, with a bound and a reason."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar

import psycopg

T = TypeVar("T")


async def wait_for(
    check: Callable[[], T | Awaitable[T]], timeout_s: float, what: str, period_s: float = 0.2
) -> T:
    """Call `check` (sync or async) until it returns something truthy; fail after `timeout_s`."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        result = check()
        if inspect.isawaitable(result):
            result = await result
        if result:
            return result  # type: ignore[return-value]
        await asyncio.sleep(period_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def db_rows(database_url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, args).fetchall()  # type: ignore[arg-type]
