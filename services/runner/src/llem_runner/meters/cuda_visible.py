"""CUDA_VISIBLE_DEVICES read the way CUDA reads it, mapped to NVML device indices.

CUDA takes a comma-separated list of device indices or GPU UUIDs (a unique prefix is enough) and
stops at the first entry it cannot use; an empty value hides every GPU. MIG instances are refused:
NVML measures energy per physical GPU, not per MIG instance. A repeated GPU also ends the list
(llem's choice, so that no GPU's energy is ever counted twice).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence

from llem_runner.errors import MeterError

log = logging.getLogger(__name__)


def _resolve(token: str, uuids: Sequence[str]) -> int | None:
    if token.isdigit():
        index = int(token)
        return index if index < len(uuids) else None
    if token.startswith("GPU-"):
        hits = [i for i, uuid in enumerate(uuids) if uuid.startswith(token)]
        return hits[0] if len(hits) == 1 else None
    return None


def visible_indices(uuids: Sequence[str]) -> list[int]:
    """NVML indices of the GPUs CUDA sees, in CUDA's order, given every GPU's UUID in NVML order."""
    visible = os.environ.get("CUDA_VISIBLE_DEVICES")
    if visible is None:
        return list(range(len(uuids)))
    tokens = [t.strip() for t in visible.split(",")]
    mig = [t for t in tokens if t.startswith("MIG-")]
    if mig:
        raise MeterError(
            f"CUDA_VISIBLE_DEVICES names MIG instance {mig[0]}: NVML reports energy per physical GPU, "
            "not per MIG instance, so llem refuses to attribute it. Run on a whole GPU."
        )
    if visible.strip() == "":
        log.info("CUDA_VISIBLE_DEVICES is empty: CUDA sees no GPU, so none is measured")
        return []
    out: list[int] = []
    for token in tokens:
        index = _resolve(token, uuids)
        if index is None or index in out:
            log.warning(
                "CUDA_VISIBLE_DEVICES=%r: CUDA stops at %r, later entries are not measured", visible, token
            )
            break
        out.append(index)
    return out
