"""`llem-schemas docs [--check]`: write or verify the subscriber documents."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from llem_schemas import docs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="llem-schemas", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    gen = sub.add_parser("docs", help="write JSON Schemas and the AsyncAPI document")
    gen.add_argument("--out", type=Path, default=docs.DIST_DIR)
    gen.add_argument("--check", action="store_true", help="fail if the files on disk are stale")
    args = parser.parse_args(argv)
    if args.check:
        stale = docs.stale(args.out)
        if stale:
            print("stale schema documents (run `llem-schemas docs`):", *stale, sep="\n  ", file=sys.stderr)
            return 1
        print(f"schema documents in {args.out} are up to date")
        return 0
    for path in docs.write(args.out):
        print(path)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
