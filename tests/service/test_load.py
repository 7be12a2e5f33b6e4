"""A bounded load test over a real server on loopback: a big batch (MINYI_LOAD_ROWS rows,
20,000 in the issue) runs while 20 clients read clusters and classify; no answer is a 5xx and no
read waits behind the batch. The reads' latency is measured and printed, not held to a number
here: on shared cores it swings with whatever else runs (p95 326-509 ms at 6,000-20,000 rows)."""

import os
import random
import threading
import time

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from nlp.core.resources import read_fragments  # noqa: E402
from service.devserver import start_server  # noqa: E402

KEY = "load-key"
H = {"Authorization": f"Bearer {KEY}"}
# 20,000 rows take about 150 s on 2 shared cores (p95 of reads 326 ms); the suite runs fewer.
ROWS = int(os.environ.get("MINYI_LOAD_ROWS", "6000"))
CLIENTS, CALLS = 20, 15
PLACES = [
    f"{name}{kind}"
    for name in "青石 红旗 东风 光明 幸福 新华".split()
    for kind in "村 社区".split()
]


def export(rows: int, seed: int = 7) -> bytes:
    """A CSV of ``rows`` opinions made from the project's own fragments."""
    fragments = [text for _, text in read_fragments()]
    pick = random.Random(seed)
    lines = ["留言时间,留言详情"]
    for i in range(rows):
        text = pick.choice(fragments).replace("{place}", pick.choice(PLACES))
        lines.append(f"2024-{1 + i % 12:02d}-{1 + i % 28:02d},{text}（第{i}条）")
    return "\n".join(lines).encode()


@pytest.mark.slow
def test_reads_stay_fast_while_a_big_batch_runs(tmp_path):
    settings = {"api_keys": KEY, "database_url": f"sqlite:///{tmp_path / 'm.sqlite'}"}
    settings.update(data_dir=tmp_path / "data", rate_limit_per_minute=100_000)
    proc, base = start_server(tmp_path / "server.log", wait="/readyz", **settings)
    try:
        seed = [{"text": t, "external_id": f"S{i}"} for i, (_, t) in enumerate(read_fragments())]
        seeded = httpx.post(
            f"{base}/v1/opinions", json={"opinions": seed[:50]}, headers=H, timeout=120
        )
        assert seeded.status_code == 200
        cluster = seeded.json()["results"][0]["cluster"]
        upload = httpx.post(
            f"{base}/v1/batches", headers=H, files={"file": ("big.csv", export(ROWS))}, timeout=120
        )
        job = upload.json()["id"]
        stages, deadline = [], time.time() + 300
        while time.time() < deadline:  # reads start once the batch writes clusters
            state = httpx.get(f"{base}/v1/batches/{job}", headers=H, timeout=30).json()
            stages.append((round(time.time()), state["stage"], state["status"]))
            if (
                state["stage"] in ("dedupe", "cluster")
                or state["status"] != "running"
                and state["status"] != "queued"
            ):
                break
            time.sleep(0.2)
        seconds, statuses = [], []

        def call(http, n: int, i: int) -> httpx.Response:
            if i % 3 == 0:
                text = seed[(n + i) % len(seed)]["text"]
                return http.post("/v1/classify", json={"texts": [text]})
            if i % 3 == 1:
                return http.get("/v1/clusters", params={"limit": 20})
            return http.get(f"/v1/clusters/{cluster}")

        def client(n: int) -> None:
            with httpx.Client(base_url=base, headers=H, timeout=30) as http:
                for i in range(CALLS):
                    start = time.perf_counter()
                    try:
                        r = call(http, n, i)
                    except httpx.TransportError:
                        statuses.append(599)
                        continue
                    seconds.append(time.perf_counter() - start)
                    statuses.append(r.status_code)

        threads = [threading.Thread(target=client, args=(n,)) for n in range(CLIENTS)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=120)
        during = httpx.get(f"{base}/v1/batches/{job}", headers=H, timeout=30).json()
        seconds.sort()
        p95 = seconds[int(len(seconds) * 0.95)]
        after = f"{during['status']} {during['stage']}"
        print(f"stages {stages[-3:]}; after reads: {after}; p95 {p95 * 1000:.0f} ms")
        assert len(statuses) == CLIENTS * CALLS and all(s < 500 for s in statuses), statuses
        assert statuses.count(200) == len(statuses)
        # A read queued behind the batch's writes would wait out a whole stage (tens of seconds).
        assert p95 < 5, f"p95 of reads {p95 * 1000:.0f} ms: reads wait for the batch"
        assert during["status"] in ("running", "done"), during
        assert proc.poll() is None
    finally:
        proc.terminate()
        proc.wait(timeout=10)
