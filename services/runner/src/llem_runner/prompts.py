"""Prompt sets: a small built-in set, or a JSONL file of {"prompt": ...} lines."""

from __future__ import annotations

import json
from pathlib import Path

from llem_runner.errors import JobRejected

BUILTIN: dict[str, list[str]] = {
    "builtin:short": [
        "Explain in one sentence why the sky is blue.",
        "Write a haiku about a quiet data centre.",
        "List three uses of a hash table.",
        "What is the capital of France?",
        "Summarise the plot of a heist film in two sentences.",
        "Translate 'good morning' into Spanish and German.",
        "Give a short definition of entropy.",
        "Name a prime number larger than one hundred.",
    ],
}


def load_prompts(name: str) -> list[str]:
    if name in BUILTIN:
        return BUILTIN[name]
    path = Path(name)
    if not path.is_file():
        raise JobRejected(f"prompt set {name!r} is neither built in ({', '.join(BUILTIN)}) nor a file")
    prompts = []
    for lineno, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        try:
            prompts.append(str(json.loads(line)["prompt"]))
        except (json.JSONDecodeError, KeyError, TypeError) as exc:
            raise JobRejected(f"{path}:{lineno}: expected a JSON object with a 'prompt' field") from exc
    if not prompts:
        raise JobRejected(f"prompt file {path} holds no prompts")
    return prompts
