"""A loopback TCP proxy a test puts between a client and a server, to inject network faults.

- `cut()`: drop every connection and refuse new ones (an outage that errors at once).
- `blackhole()`: connections stay open but nothing passes either way and new connections are
  accepted and then hang: a partition without an error, as a dropped route looks to a client. What
  was sent meanwhile is held, as TCP retransmission would deliver it after the partition heals.
- `delay(latency_s, jitter_s)`: every chunk waits latency +/- jitter (order kept per direction).
- `reset()`: abort every open connection (a RST to both ends); new ones are accepted.
- `heal()`: back to passing everything at once.
"""

from __future__ import annotations

import asyncio
import contextlib
import random


class TcpProxy:
    def __init__(self, listen_port: int, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.listen_port, self.target_port, self.target_host = listen_port, target_port, target_host
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._open = asyncio.Event()  # set: data flows; clear: blackholed
        self._open.set()
        self.latency_s, self.jitter_s = 0.0, 0.0
        self._rng = random.Random(0)
        self.connections = 0  # accepted so far, for tests that want to see a reconnect

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, OSError):
            while data := await reader.read(65536):
                await self._open.wait()
                if self.latency_s or self.jitter_s:
                    jitter = self._rng.uniform(-self.jitter_s, self.jitter_s)
                    await asyncio.sleep(max(0.0, self.latency_s + jitter))
                    await self._open.wait()
                writer.write(data)
                await writer.drain()
        writer.close()

    async def _handle(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(client_w)
        await self._open.wait()  # blackholed: the client's connection hangs, no error
        try:
            server_r, server_w = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            self._writers.discard(client_w)
            client_w.close()
            return
        self._writers.add(server_w)
        await asyncio.gather(self._pipe(client_r, server_w), self._pipe(server_r, client_w))
        self._writers -= {client_w, server_w}

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", self.listen_port)

    def _abort_all(self) -> None:
        for w in self._writers:
            w.transport.abort()
        self._writers.clear()

    async def cut(self) -> None:
        """Drop every connection and refuse new ones until `start()`."""
        self._abort_all()
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()
            self._server = None

    def blackhole(self) -> None:
        self._open.clear()

    def delay(self, latency_s: float, jitter_s: float = 0.0) -> None:
        self.latency_s, self.jitter_s = latency_s, jitter_s

    def reset(self) -> None:
        self._abort_all()

    def heal(self) -> None:
        self.latency_s, self.jitter_s = 0.0, 0.0
        self._open.set()

    async def stop(self) -> None:
        self.heal()
        await self.cut()
