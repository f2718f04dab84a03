"""Command line: ``agent-console`` and its subcommands (filled in by later work)."""

from __future__ import annotations

import argparse
import sys


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="agent-console", description=__doc__)
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("serve", help="Run the reference chat server.")
    sub.add_parser("demo", help="Embedded server + simulated customers + the console.")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    print(f"agent-console: '{args.command or 'console'}' is not built yet.", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main())
