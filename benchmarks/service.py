"""Bounded load on the HTTP API over 127.0.0.1: requests/s and latency percentiles.

    python benchmarks/service.py [--clients 20] [--seconds 30] [--client wrk|httpx]

Starts `uvicorn --factory service.main:create_app` (one worker) on a free loopback port, then
runs `--clients` concurrent clients for `--seconds` each on POST /v1/classify with 1 text and with
100 texts, and on POST /v1/opinions with one new opinion per request (stored in a fresh SQLite
database and clustered against everything stored before it). Every loop is bounded in time and
the server is stopped at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
import numpy as np

# Run as a script, this file's folder comes first on the path and this file would shadow the
# `service` package it measures.
sys.path = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

from service.devserver import running_server  # noqa: E402

TEXTS = [
    "暖气不热，屋里才十五度",
    "医保报销要跑好几趟",
    "村里那条路坑坑洼洼好几年了",
    "小区门口垃圾堆了好几天没人清运",
]


async def load(
    base: str, path: str, make_body, clients: int, seconds: float
) -> tuple[int, list[float], int]:
    latencies: list[float] = []
    errors = 0
    deadline = time.perf_counter() + seconds
    headers = {"Authorization": "Bearer bench-key"}

    async def client() -> None:
        nonlocal errors
        async with httpx.AsyncClient(base_url=base, timeout=30) as http:
            while time.perf_counter() < deadline:
                start = time.perf_counter()
                r = await http.post(path, json=make_body(), headers=headers)
                latencies.append(time.perf_counter() - start)
                errors += r.status_code != 200

    await asyncio.gather(*(client() for _ in range(clients)))
    return len(latencies), latencies, errors


WRK_SCRIPT = """
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer bench-key"
local kind, body, n = "%s", [[%s]], 0
request = function()
  n = n + 1
  if kind == "opinions" then
    local id = tostring(n) .. "-" .. tostring(math.random(1e9))
    return wrk.format(nil, nil, nil, string.format(body, id, n %% 97))
  end
  return wrk.format(nil, nil, nil, body)
end
done = function(summary, latency, requests)
  io.write(string.format("RESULT %%d %%d %%.3f %%.3f %%.3f\\n", summary.requests,
    summary.errors.status + summary.errors.connect + summary.errors.read
      + summary.errors.write + summary.errors.timeout,
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000))
end
"""


def wrk(
    base: str, path: str, kind: str, body: str, clients: int, seconds: float
) -> tuple[int, float, float, float, int]:
    """Load from wrk (C, one thread): the client costs far less CPU than Python's on the same
    cores."""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as f:
        f.write(WRK_SCRIPT % (kind, body))
    out = subprocess.run(
        [
            "wrk",
            "-t1",
            f"-c{clients}",
            f"-d{int(seconds)}s",
            "--timeout",
            "60s",
            "-s",
            f.name,
            base + path,
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    Path(f.name).unlink()
    count, errors, p50, p95, p99 = next(
        line.split()[1:] for line in out.splitlines() if line.startswith("RESULT")
    )
    return int(count), float(p50), float(p95), float(p99), int(errors)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30)
    parser.add_argument(
        "--client",
        choices=["wrk", "httpx"],
        default="wrk" if shutil.which("wrk") else "httpx",
        help="load generator (wrk when installed: apt-get install wrk)",
    )
    args = parser.parse_args()
    folder = Path(tempfile.mkdtemp(prefix="minyi-bench-"))
    numbers = itertools.count()

    def opinion() -> dict:
        i = next(numbers)
        return {
            "opinions": [
                {
                    "external_id": f"B{i}",
                    "text": f"{TEXTS[i % len(TEXTS)]}（{i % 97}号楼）",
                    "time": "2024-11-05",
                }
            ]
        }

    scenarios = (
        ("classify, 1 text", "/v1/classify", lambda: {"texts": TEXTS[:1]}),
        ("classify, 100 texts", "/v1/classify", lambda: {"texts": (TEXTS * 25)[:100]}),
        ("opinions, 1 stored", "/v1/opinions", opinion),
    )
    wrk_bodies = {
        "classify, 1 text": ("classify", json.dumps({"texts": TEXTS[:1]}, ensure_ascii=False)),
        "classify, 100 texts": (
            "classify",
            json.dumps({"texts": (TEXTS * 25)[:100]}, ensure_ascii=False),
        ),
        "opinions, 1 stored": (
            "opinions",
            '{"opinions": [{"external_id": "W%s", "text": "'
            + TEXTS[0]
            + '（%d号楼）", "time": "2024-11-05"}]}',
        ),
    }
    settings = {
        "api_keys": "bench-key",
        "rate_limit_per_minute": 100_000_000,
        "database_url": f"sqlite:///{folder / 'bench.sqlite'}",
        "data_dir": folder,
    }
    with running_server(access_log=False, wait="/readyz", **settings) as base:
        print(
            f"{args.clients} concurrent clients ({args.client}), {args.seconds:.0f} s each, "
            f"one uvicorn worker, {os.cpu_count()} cores"
        )
        print()
        print("| request | requests | req/s | p50 ms | p95 ms | p99 ms | errors |")
        print("|---|---|---|---|---|---|---|")
        for name, path, body in scenarios:
            if args.client == "wrk":
                count, p50, p95, p99, errors = wrk(
                    base, path, *wrk_bodies[name], args.clients, args.seconds
                )
            else:
                count, latencies, errors = asyncio.run(
                    load(base, path, body, args.clients, args.seconds)
                )
                p50, p95, p99 = np.percentile(np.array(latencies) * 1000, [50, 95, 99])
            print(
                f"| {name} | {count} | {count / args.seconds:.0f} | {p50:.1f} | {p95:.1f} "
                f"| {p99:.1f} | {errors} |"
            )
    shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
