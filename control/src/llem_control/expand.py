"""Expand a campaign spec into jobs: the grid's cartesian product, pruned with reasons, shuffled
with the seed, ids derived from content (so a resubmit publishes the same ids and nothing twice)."""

from __future__ import annotations

import hashlib
import itertools
import json
import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError

from llem_control.errors import SpecError
from llem_schemas.campaign import BackendGrid, CampaignSpec, ModelSpec, PoolSpec
from llem_schemas.jobs import JobSpec

NAMESPACE = uuid.UUID("8d6e1f0c-2b7a-4c3e-9f51-6a0d4e2b9c77")


@dataclass(frozen=True)
class Dropped:
    """A combination that cannot run, and why (shown to the user, never silently lost)."""

    config: dict[str, Any]
    reason: str


@dataclass(frozen=True)
class Expansion:
    campaign_id: uuid.UUID
    jobs: list[JobSpec]
    dropped: list[Dropped]


def _canonical(doc: Any) -> str:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), default=str)


def campaign_id(spec: CampaignSpec) -> uuid.UUID:
    return uuid.uuid5(
        NAMESPACE, hashlib.sha256(_canonical(spec.model_dump(mode="json")).encode()).hexdigest()
    )


def _grid(fields: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every combination of the list-valued fields (other values as they are)."""
    keys = list(fields)
    axes = [v if isinstance(v, list) else [v] for v in fields.values()]
    for values in itertools.product(*axes):
        yield dict(zip(keys, values, strict=True))


def _backend_configs(backend: BackendGrid, model: ModelSpec) -> Iterator[dict[str, Any]]:
    doc = backend.model_dump(mode="json")
    kind = doc["kind"]
    fixed = {k: v for k, v in doc.items() if k not in backend.dimensions}
    grid = {k: v for k, v in doc.items() if k in backend.dimensions}
    if kind == "llama_cpp":
        grid["model_path"] = model.gguf
    else:
        grid["model_key"] = model.model_id
    for combo in _grid(grid):
        config = {**fixed, **combo}
        if kind != "llama_cpp":
            config["model"] = config.pop("model_key")
        yield config


def _prune(
    pool: PoolSpec,
    model: ModelSpec,
    backend: dict[str, Any],
    workload: dict[str, Any],
    protocol: dict[str, Any],
) -> str | None:
    kind = backend["kind"]
    if protocol.get("power_limit_w") is not None and not pool.gpu:
        return f"power_limit_w needs GPUs and pool {pool.name!r} has none"
    if kind == "llama_cpp" and backend.get("model_path") is None:
        return f"model {model.name!r} has no gguf file for the llama_cpp backend"
    if kind != "llama_cpp" and backend.get("model") is None:
        return f"model {model.name!r} has no model_id for the {kind} backend"
    if kind == "vllm" and not pool.gpu:
        return f"vLLM needs a GPU and pool {pool.name!r} has none"
    if kind == "llama_cpp" and workload["concurrency"] > 1:
        return (
            "llama_cpp in-process serves one request at a time (use the openai backend on llama.cpp's server)"
        )
    if workload["arrival"] == "poisson" and workload.get("request_rate_per_s") is None:
        return "poisson arrival without request_rate_per_s"
    limit = model.context_limit
    n_ctx = backend.get("n_ctx") or backend.get("max_model_len")
    if limit is not None and n_ctx is not None and n_ctx > limit:
        return f"context {n_ctx} is above the model's limit {limit}"
    window = n_ctx or limit
    if window is not None and workload["max_output_tokens"] >= window:
        return f"max_output_tokens {workload['max_output_tokens']} does not fit the {window}-token context"
    return None


def _job(spec: CampaignSpec, cid: uuid.UUID, config: dict[str, Any], repetition: int, where: str) -> JobSpec:
    config_id = uuid.uuid5(cid, _canonical(config))
    doc = {
        **config,
        "job_id": uuid.uuid5(config_id, f"rep:{repetition}"),
        "campaign_id": cid,
        "repetition": repetition,
        "config_id": config_id,
    }
    try:
        return JobSpec.model_validate(doc)
    except ValidationError as exc:
        first = exc.errors(include_url=False)[0]
        path = ".".join(str(p) for p in first["loc"])
        raise SpecError(f"{where}: {path}: {first['msg']}") from exc


def expand(spec: CampaignSpec) -> Expansion:
    """Pinned repetitions (A/B pairing) become one job per configuration whose protocol runs all
    repetitions back to back on the runner that takes it: same host, same loaded model, and the
    run reports every repetition with the mean and its interval."""
    if spec.pin_repetitions and "repetitions" in spec.protocol:
        raise SpecError("protocol.repetitions: with pin_repetitions, set `repetitions` at the top level only")
    cid = campaign_id(spec)
    jobs: list[JobSpec] = []
    dropped: list[Dropped] = []
    workload_grid = spec.workload.model_dump(mode="json")
    for pool, model, (b_index, backend) in itertools.product(
        spec.pools, spec.models, enumerate(spec.backends)
    ):
        for backend_config in _backend_configs(backend, model):
            for workload in _grid(workload_grid):
                workload = {k: v for k, v in workload.items() if v is not None}
                workload["seed"] = spec.seed
                for protocol in _grid(dict(spec.protocol)):
                    config = {
                        "pool": pool.name,
                        "model_name": model.name,
                        "backend": backend_config,
                        "workload": workload,
                        "protocol": protocol,
                    }
                    reason = _prune(
                        pool, model, backend_config, {"request_rate_per_s": None, **workload}, protocol
                    )
                    if reason:
                        dropped.append(Dropped(config, reason))
                        continue
                    if spec.pin_repetitions:
                        config["protocol"] = {**protocol, "repetitions": spec.repetitions}
                        jobs.append(_job(spec, cid, config, 0, f"backends[{b_index}]"))
                        continue
                    for rep in range(spec.repetitions):
                        jobs.append(_job(spec, cid, config, rep, f"backends[{b_index}]"))
    random.Random(spec.seed).shuffle(jobs)  # noqa: S311 (drift must not favour one configuration)
    return Expansion(cid, jobs, dropped)
