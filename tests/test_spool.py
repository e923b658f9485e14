"""The runner's local metric spool: order kept, bounded, replay removes what was delivered."""

from __future__ import annotations

from pathlib import Path

from llem_runner.spool import Spool, SpooledMessage


def _msg(i: int, size: int = 10) -> SpooledMessage:
    return SpooledMessage(
        subject=f"llem.metrics.c.r{i}",
        stream="LLEM_METRICS",
        msg_id=f"id-{i}",
        payload=bytes([i % 256]) * size,
    )


def test_messages_come_back_in_order_and_survive_a_new_spool_object(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl", max_bytes=10_000)
    for i in range(5):
        assert spool.append(_msg(i))
    again = Spool(tmp_path / "spool.jsonl", max_bytes=10_000)  # a restarted runner finds them
    assert again.read() == [_msg(i) for i in range(5)]
    again.remove_first(2)
    assert again.read() == [_msg(i) for i in range(2, 5)]
    assert len(again) == 3


def test_a_full_spool_drops_and_counts_instead_of_growing(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool.jsonl", max_bytes=len(_msg(0).to_line()) * 2)
    assert spool.append(_msg(0)) and spool.append(_msg(1))
    assert not spool.append(_msg(2))
    assert spool.dropped == 1
    assert [m.msg_id for m in spool.read()] == ["id-0", "id-1"]
