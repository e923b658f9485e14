"""Reading server-sent events in tests."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx


async def sse_events(resp: httpx.Response) -> AsyncIterator[dict[str, Any]]:
    """Parse server-sent events: blocks of `field: value` lines separated by a blank line."""
    block: dict[str, Any] = {}
    async for line in resp.aiter_lines():
        if not line:
            if "data" in block:
                yield block
            block = {}
            continue
        name, _, value = line.partition(":")
        block[name] = value.lstrip(" ")
