"""Waiting on real services in tests: poll a condition until it holds, with a bound and a reason."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable
from typing import TypeVar, cast, overload

import psycopg

T = TypeVar("T")


@overload
async def wait_for(
    check: Callable[[], Awaitable[T | None]], timeout_s: float, what: str, period_s: float = 0.2
) -> T: ...


@overload
async def wait_for(
    check: Callable[[], T | None], timeout_s: float, what: str, period_s: float = 0.2
) -> T: ...


async def wait_for(
    check: Callable[[], T | Awaitable[T | None] | None], timeout_s: float, what: str, period_s: float = 0.2
) -> T:
    """Call `check` (sync or async) until it returns something truthy; fail after `timeout_s`.

    The result is truthy, so never None: an optional check result comes back narrowed.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout_s
    while loop.time() < deadline:
        produced = check()
        result = cast(T | None, await produced) if inspect.isawaitable(produced) else produced
        if result:
            return result
        await asyncio.sleep(period_s)
    raise AssertionError(f"timed out after {timeout_s} s waiting for {what}")


def db_rows(database_url: str, sql: str, *args: object) -> list[tuple[object, ...]]:
    with psycopg.connect(database_url) as conn:
        return conn.execute(sql, args).fetchall()
