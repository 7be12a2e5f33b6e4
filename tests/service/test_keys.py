"""Keys with names and scopes, made by `minyi keys add`, over a real server: who may do what,
who sees which batch, and the audit log of who did what."""

import os
import subprocess
import sys
import time

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from service.devserver import running_server  # noqa: E402

ADMIN = "env-admin-key"
CSV = (
    "留言时间,留言详情\n2024-10-02,暖气不热，屋里才十五度\n2024-10-03,医保报销要跑好几趟\n".encode()
)


def minyi(*args) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "nlp.cli", *args], capture_output=True, text=True, env=os.environ
    )


@pytest.fixture(scope="module")
def service(tmp_path_factory):
    folder = tmp_path_factory.mktemp("keys")
    url = f"sqlite:///{folder / 'minyi.sqlite'}"
    keys = {}
    for name, scope in (("desk-a", "write"), ("desk-b", "write"), ("viewer", "read")):
        made = minyi("keys", "add", name, "--scope", scope, "--state", url)
        assert made.returncode == 0, made.stderr
        keys[name] = made.stdout.strip().splitlines()[-1]
    settings = {"api_keys": ADMIN, "database_url": url, "data_dir": folder / "data"}
    with running_server(folder / "server.log", **settings) as base:
        yield base, url, keys, folder


def h(key):
    return {"Authorization": f"Bearer {key}"}


def wait(base, job, key, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        state = httpx.get(f"{base}/v1/batches/{job}", headers=h(key), timeout=30).json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"batch {job} did not finish: {state}")


def test_keys_are_listed_without_the_keys_themselves(service):
    _, url, keys, _ = service
    listed = minyi("keys", "list", "--state", url).stdout
    assert "desk-a\twrite" in listed and "viewer\tread" in listed
    assert not any(k in listed for k in keys.values())
    assert minyi("keys", "add", "x", "--scope", "root", "--state", url).returncode == 2


def test_a_read_key_reads_and_classifies_but_cannot_store(service):
    base, _, keys, _ = service
    viewer = h(keys["viewer"])
    body = {"texts": ["暖气不热"]}
    assert httpx.post(f"{base}/v1/classify", json=body, headers=viewer).status_code == 200
    assert httpx.get(f"{base}/v1/clusters", headers=viewer).status_code == 200
    stored = httpx.post(
        f"{base}/v1/opinions", json={"opinions": [{"text": "暖气不热"}]}, headers=viewer
    )
    assert stored.status_code == 403 and "needs write" in stored.json()["error"]
    upload = httpx.post(f"{base}/v1/batches", headers=viewer, files={"file": ("a.csv", CSV)})
    assert upload.status_code == 403
    assert httpx.get(f"{base}/v1/audit", headers=viewer).status_code == 403


def test_a_batch_is_seen_only_by_its_key_and_admins(service):
    base, _, keys, folder = service
    a, b = h(keys["desk-a"]), h(keys["desk-b"])
    r = httpx.post(f"{base}/v1/batches", headers=a, files={"file": ("a.csv", CSV)}, timeout=60)
    assert r.status_code == 202
    job = r.json()["id"]
    for key in (b, h(keys["viewer"])):
        assert httpx.get(f"{base}/v1/batches/{job}", headers=key).status_code == 404
        assert httpx.delete(f"{base}/v1/batches/{job}", headers=key).status_code in (403, 404)
        assert job not in str(httpx.get(f"{base}/v1/batches", headers=key).json())
    assert httpx.get(f"{base}/v1/batches/{job}", headers=h(ADMIN)).status_code == 200
    assert job in str(httpx.get(f"{base}/v1/batches", headers=h(ADMIN)).json())
    state = wait(base, job, keys["desk-a"])
    assert state["status"] == "done"
    for url in (f["url"] for f in state["files"]):
        assert httpx.get(f"{base}{url}", headers=b).status_code == 404
    # The upload is gone once the job has ended; what the service wrote is its owner's only.
    jobs = list((folder / "data" / "batches").iterdir())
    mine = next(p for p in jobs if (p / "out").is_dir() and not (p / "a.csv").exists())
    assert oct(mine.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in (mine / "out").iterdir())
    assert httpx.delete(f"{base}/v1/batches/{job}", headers=a).status_code == 204
    assert httpx.get(f"{base}/v1/batches/{job}", headers=a).status_code == 404
    assert not any(p.exists() for p in jobs if p.name == mine.name)


def test_every_write_records_the_key_and_admins_read_it(service):
    base, url, keys, _ = service
    a = h(keys["desk-a"])
    ok = httpx.post(
        f"{base}/v1/opinions", json={"opinions": [{"text": "医保报销要跑好几趟"}]}, headers=a
    )
    assert ok.status_code == 200
    log = httpx.get(f"{base}/v1/audit", headers=h(ADMIN), params={"who": "desk-a"}).json()
    actions = [e["action"] for e in log["items"]]
    assert "opinions.store" in actions and "batch.create" in actions
    assert all(e["who"] == "desk-a" for e in log["items"])
    lines = minyi("audit", "--state", url, "--who", "desk-a").stdout.splitlines()
    assert any("\tdesk-a\topinions.store\t" in line for line in lines)


def test_a_revoked_key_is_refused(service):
    base, url, keys, _ = service
    made = minyi("keys", "add", "temp", "--scope", "read", "--state", url)
    key = made.stdout.strip().splitlines()[-1]
    time.sleep(2.5)
    assert httpx.get(f"{base}/v1/clusters", headers=h(key)).status_code == 200
    assert minyi("keys", "revoke", "temp", "--state", url).returncode == 0
    time.sleep(2.5)
    assert httpx.get(f"{base}/v1/clusters", headers=h(key)).status_code == 401
