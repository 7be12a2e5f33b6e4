"""Bounded load on the HTTP API over 127.0.0.1: requests/s and latency percentiles.

    python benchmarks/service.py [--clients 20] [--seconds 30]

Starts `uvicorn --factory service.main:create_app` (one worker) on a free loopback port, then
runs `--clients` concurrent clients for `--seconds` each on POST /v1/classify with 1 text and with
100 texts. Every loop is bounded in time and the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time
from pathlib import Path

import httpx
import numpy as np

# Run as a script, this file's folder comes first on the path and this file would shadow the
# `service` package it measures.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from service.devserver import running_server  # noqa: E402

TEXTS = ["暖气不热，屋里才十五度", "医保报销要跑好几趟", "村里那条路坑坑洼洼好几年了", "小区门口垃圾堆了好几天没人清运"]


async def load(base: str, texts: list[str], clients: int, seconds: float) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": "Bearer bench-key"}

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                r = await http.post("/v1/classify", json={"texts": texts}, headers=headers)
                latencies.append(time.perf_counter() - start)
                errors += r.status_code != 200

    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), latencies, errors


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    with running_server(access_log=False, wait="/readyz", api_keys="bench-key", rate_limit_per_minute=100_000_000) as base:
        print(f"{args.clients} concurrent clients, {args.seconds:.0f} s each, one uvicorn worker, {os.cpu_count()} cores")
        print()
        print("| request | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---|---|---|---|---|---|")
        for name, texts in (("1 text", TEXTS[:1]), ("100 texts", (TEXTS * 25)[:100])):
            count, latencies, errors = asyncio.run(load(base, texts, args.clients, args.seconds))
            ms = np.array(latencies) * 1000
            p50, p95, p99 = np.percentile(ms, [50, 95, 99])
            print(f"| {name} | {count} | {count / args.seconds:.0f} | {p50:.1f} | {p95:.1f} | {p99:.1f} | {errors} |")


if __name__ == "__main__":
    main()
