"""Batch jobs run in worker processes: a hostile upload, or a worker that dies, fails only its
own job, with a reason, and the same server answers on (a real server, real uploads)."""

import io
import json
import os
import signal
import sqlite3
import time

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from service.devserver import start_server  # noqa: E402
from service.worker import BATCH_NICENESS  # noqa: E402

KEY = "jobs-key"
H = {"Authorization": f"Bearer {KEY}"}
GOOD = "留言时间,留言详情\n2024-10-02,暖气不热，屋里才十五度\n2024-10-03,医保报销要跑好几趟\n"


def xlsx_bomb() -> bytes:
    import xlsxwriter

    out = io.BytesIO()
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    sheet = book.add_worksheet()
    sheet.write(0, 0, "留言详情")
    sheet.write(1048575, 16383, "暖气不热")  # XFD1048576: a dense grid would be 17 billion cells
    book.close()
    return out.getvalue()


def hostile() -> dict[str, bytes]:
    good_xlsx = xlsx_bomb()
    wide = json.dumps({f"k{i}": i for i in range(100_000)}).encode() + b"\n"
    return {
        "bomb.xlsx": good_xlsx,
        "wide.jsonl": wide,
        "truncated.xlsx": good_xlsx[: len(good_xlsx) // 2],
        "empty.csv": b"",
        "gbk.xlsx": GOOD.encode("gbk"),
    }


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("jobs")
    db = folder / "minyi.sqlite"
    settings = {"api_keys": KEY, "database_url": f"sqlite:///{db}", "data_dir": folder / "data"}
    proc, base = start_server(folder / "server.log", **settings)
    yield proc, base, db
    proc.terminate()
    proc.wait(timeout=10)


def upload(base, name, data) -> str:
    r = httpx.post(f"{base}/v1/batches", headers=H, files={"file": (name, data)}, timeout=60)
    assert r.status_code == 202, r.text
    return r.json()["id"]


def wait(base, job, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        state = httpx.get(f"{base}/v1/batches/{job}", headers=H, timeout=30).json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.3)
    raise AssertionError(f"batch {job} did not finish: {state}")


def test_hostile_uploads_fail_their_own_jobs_only(server):
    proc, base, db = server
    server_folder = db.parent
    jobs = {name: upload(base, name, data) for name, data in hostile().items()}
    fine = upload(base, "fine.csv", GOOD.encode())
    for name, job in jobs.items():
        state = wait(base, job)
        assert state["status"] == "failed" and state["error"], (name, state)
        assert "internal error" not in state["error"], (name, state["error"])
        assert str(server_folder) not in state["error"]  # no path of the server's
    assert wait(base, fine)["status"] == "done"
    # Its opinions have no external id: their cluster still shows them.
    clusters = httpx.get(f"{base}/v1/clusters", headers=H).json()["items"]
    detail = httpx.get(f"{base}/v1/clusters/{clusters[0]['cluster']}", headers=H)
    assert detail.status_code == 200 and detail.json()["members"][0]["external_id"] is None
    assert proc.poll() is None and httpx.get(f"{base}/healthz").json() == {"status": "ok"}


def test_a_worker_that_dies_fails_its_job_with_the_reason(server):
    proc, base, db = server
    rows = [
        f"2024-10-{1 + i % 28:02d},第{i}条：小区{i % 40}号楼暖气不热，希望尽快处理"
        for i in range(3000)
    ]
    job = upload(base, "big.csv", ("留言时间,留言详情\n" + "\n".join(rows)).encode())
    owner = ""
    for _ in range(600):
        with sqlite3.connect(db) as conn:
            status, owner = conn.execute(
                "SELECT status, owner FROM batches WHERE id=?", (job,)
            ).fetchone()
        if status == "running" and owner:
            break
        time.sleep(0.05)
    pid = int(owner.rpartition(":")[2])
    assert pid != proc.pid  # a worker process of its own, not a thread of the server
    # at a lower priority than the server, whose requests it must not slow
    niceness = os.getpriority(os.PRIO_PROCESS, pid) - os.getpriority(os.PRIO_PROCESS, proc.pid)
    assert niceness == BATCH_NICENESS
    os.kill(pid, signal.SIGKILL)
    state = wait(base, job)
    assert state["status"] == "failed" and "SIGKILL" in state["error"]
    assert proc.poll() is None and httpx.get(f"{base}/healthz").status_code == 200
    assert wait(base, upload(base, "after.csv", GOOD.encode()))["status"] == "done"
