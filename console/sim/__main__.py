"""``python -m console.sim URL``: run simulated customers against a running server.

Prints the run's counters as JSON.  ``--load`` opens many conversations fast
(for benchmarks) instead of chatting at a human pace.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys

from console.sim.runner import run_load, run_simulator


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m console.sim", description=__doc__)
    parser.add_argument("url", help="server root, e.g. http://127.0.0.1:8765")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--customers", type=int, default=10, help="how many customers (default 10)")
    parser.add_argument(
        "--rate", type=float, default=3.0, help="new customers per minute at speed 1"
    )
    parser.add_argument(
        "--speed", type=float, default=1.0, help="pace multiplier (10 = ten times faster)"
    )
    parser.add_argument(
        "--load", action="store_true", help="load mode: many conversations, no waiting"
    )
    parser.add_argument(
        "--concurrency", type=int, default=20, help="load mode: customers in flight"
    )
    parser.add_argument(
        "--messages", type=int, default=3, help="load mode: messages per conversation"
    )
    args = parser.parse_args(argv)
    if args.load:
        stats = asyncio.run(
            run_load(
                args.url,
                seed=args.seed,
                conversations=args.customers,
                concurrency=args.concurrency,
                messages_per_conversation=args.messages,
            )
        )
    else:
        stats = asyncio.run(
            run_simulator(
                args.url, seed=args.seed, customers=args.customers, rate=args.rate, speed=args.speed
            )
        )
    print(json.dumps(stats.summary(), indent=2))
    for line in stats.errors[:20]:
        print(line, file=sys.stderr)
    return 1 if stats.errors else 0


if __name__ == "__main__":
    raise SystemExit(main())
