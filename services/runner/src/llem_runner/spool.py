"""A bounded local spool for events that could not reach NATS (the network is down).

One JSON line per message: subject, stream, message id and payload. Replayed in order on
reconnect; the Nats-Msg-Id makes a replay of something that did arrive a no-op. Bounded in bytes:
when full, new entries are dropped and counted (the flags of the run will show gaps).
"""

from __future__ import annotations

import base64
import json
import logging
import threading
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger("llem.runner.spool")


@dataclass(frozen=True)
class SpooledMessage:
    subject: str
    stream: str
    msg_id: str
    payload: bytes

    def to_line(self) -> str:
        doc = {
            "subject": self.subject,
            "stream": self.stream,
            "msg_id": self.msg_id,
            "payload": base64.b64encode(self.payload).decode(),
        }
        return json.dumps(doc) + "\n"

    @classmethod
    def from_line(cls, line: str) -> SpooledMessage:
        doc = json.loads(line)
        return cls(doc["subject"], doc["stream"], doc["msg_id"], base64.b64decode(doc["payload"]))


class Spool:
    def __init__(self, path: Path, max_bytes: int) -> None:
        self.path = path
        self.max_bytes = max_bytes
        self.dropped = 0
        self._lock = threading.Lock()
        path.parent.mkdir(parents=True, exist_ok=True)

    def size_bytes(self) -> int:
        return self.path.stat().st_size if self.path.exists() else 0

    def __len__(self) -> int:
        return len(self.read()) if self.size_bytes() else 0

    def append(self, message: SpooledMessage) -> bool:
        line = message.to_line()
        with self._lock:
            if self.size_bytes() + len(line) > self.max_bytes:
                self.dropped += 1
                log.error(
                    "spool %s is full (%d bytes): message %s dropped",
                    self.path,
                    self.max_bytes,
                    message.msg_id,
                )
                return False
            with self.path.open("a") as fh:
                fh.write(line)
                fh.flush()
        return True

    def read(self) -> list[SpooledMessage]:
        if not self.path.exists():
            return []
        return [SpooledMessage.from_line(line) for line in self.path.read_text().splitlines() if line.strip()]

    def remove_first(self, count: int) -> None:
        """Drop the first `count` messages (they have been delivered)."""
        with self._lock:
            rest = self.read()[count:]
            tmp = self.path.with_suffix(".tmp")
            tmp.write_text("".join(m.to_line() for m in rest))
            tmp.replace(self.path)
