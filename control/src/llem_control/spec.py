"""Load a campaign file. Every error names the file, the field path and what is wrong."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import ValidationError

from llem_control.errors import SpecError
from llem_schemas.campaign import CampaignSpec


def _location(loc: tuple[int | str, ...]) -> str:
    # Drop pydantic's union-member tags (e.g. 'llama_cpp', 'int', 'list[int]') from the path.
    parts = [
        str(p)
        for p in loc
        if not (
            isinstance(p, str)
            and (p in {"llama_cpp", "openai", "vllm"} or "[" in p or p in {"int", "float", "str", "bool"})
        )
    ]
    return ".".join(parts) or "(top level)"


def parse_spec(text: str, source: str = "<spec>") -> CampaignSpec:
    try:
        doc = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SpecError(yaml_problem(source, exc)) from None
    return validate_spec(doc, source)


def yaml_problem(source: str, exc: yaml.YAMLError) -> str:
    """`file:line:column: not valid YAML: problem`, lines and columns counted from 1."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{source}:{mark.line + 1}:{mark.column + 1}" if mark is not None else source
    problem = getattr(exc, "problem", None) or str(exc)
    context = getattr(exc, "context", None)
    return f"{where}: not valid YAML: {problem}" + (f" ({context})" if context else "")


def validate_spec(doc: object, source: str = "<spec>") -> CampaignSpec:
    """A parsed document (YAML from a file, JSON from the API) as a spec, or a SpecError naming
    the source, every field path at fault and the problem."""
    if not isinstance(doc, dict):
        raise SpecError(f"{source}: a campaign spec is a mapping (name, pools, models, backends, ...)")
    try:
        return CampaignSpec.model_validate(doc)
    except ValidationError as exc:
        seen: dict[str, str] = {}
        for err in exc.errors(include_url=False):
            seen.setdefault(_location(err["loc"]), err["msg"])
        problems = "\n".join(f"  {path}: {msg}" for path, msg in seen.items())
        raise SpecError(f"{source}: invalid campaign spec\n{problems}") from exc


def load_spec(path: Path) -> CampaignSpec:
    try:
        text = path.read_text()
    except OSError as exc:
        raise SpecError(f"{path}: cannot read: {exc.strerror}") from exc
    return parse_spec(text, str(path))
