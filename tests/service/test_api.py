"""The HTTP API over a real uvicorn server on a free loopback port."""

import os
import socket
import subprocess
import sys
import time

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

KEY = "test-key-1"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    port = _free_port()
    log = tmp_path_factory.mktemp("server") / "server.log"
    env = {**os.environ, "MINYI_API_KEYS": f"other,{KEY}", "MINYI_MAX_TEXTS": "50", "MINYI_RATE_LIMIT_PER_MINUTE": "1000", "MINYI_MAX_BODY_BYTES": "200000"}
    with open(log, "w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "--factory", "service.main:create_app", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
        base = f"http://127.0.0.1:{port}"
        for _ in range(200):
            try:
                if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        else:
            proc.kill()
            pytest.fail(f"server did not start: {log.read_text()}")
        yield base, log
        proc.terminate()
        proc.wait(timeout=10)


def call(base, path, body=None, key=KEY, **kw):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.post(f"{base}{path}", json=body, headers=headers, timeout=30, **kw)


def test_classify_returns_results_in_order(server):
    base, _ = server
    texts = ["暖气不热，屋里才十五度", "医保报销要跑好几趟", "村里那条路坑坑洼洼好几年了"]
    r = call(base, "/v1/classify", {"texts": texts})
    assert r.status_code == 200
    results = r.json()["results"]
    assert [x["level2"] for x in results] == ["供暖", "医保报销", "道路破损/改道"]
    assert results[1]["department"] == "医疗保障局" and 0 < results[0]["confidence"] <= 1
    assert results[0]["alternatives"][0]["label"] == "城乡建设" and "暖气" in results[0]["keywords"]


def test_missing_or_wrong_key_is_401_and_keys_stay_out_of_logs(server):
    base, log = server
    for key in (None, "wrong"):
        r = call(base, "/v1/classify", {"texts": ["暖气不热"]}, key=key)
        assert r.status_code == 401 and r.json() == {"error": "missing or invalid API key"}
    assert KEY not in log.read_text() and "wrong" not in log.read_text()


@pytest.mark.parametrize(
    ("body", "status", "words"),
    [
        ({"texts": []}, 422, "texts"),
        ({"texts": "暖气不热"}, 422, "texts"),
        ({"wrong": 1}, 422, "texts"),
        ({"texts": ["暖气"] * 51}, 413, "limit is 50"),
        ({"texts": ["路" * 6000]}, 422, "5000 characters"),
    ],
)
def test_bad_requests_get_clear_json_errors(server, body, status, words):
    base, _ = server
    r = call(base, "/v1/classify", body)
    assert r.status_code == status and words in r.json()["error"]
    assert "Traceback" not in r.text


def test_oversized_body_is_413(server):
    base, _ = server
    r = call(base, "/v1/classify", {"texts": ["暖气不热" * 20000]})  # about 240 kB of UTF-8
    assert r.status_code == 413 and "over the limit" in r.json()["error"]


def test_health_ready_metrics_and_openapi(server):
    base, _ = server
    assert httpx.get(f"{base}/healthz").json() == {"status": "ok"}
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
    metrics = httpx.get(f"{base}/metrics").text
    assert 'minyi_requests_total{path="/v1/classify",status="200"}' in metrics
    spec = httpx.get(f"{base}/openapi.json").json()
    assert "/v1/classify" in spec["paths"] and "暖气不热" in httpx.get(f"{base}/openapi.json").text


def test_rate_limit_gives_429():
    from fastapi.testclient import TestClient

    from service import create_app
    from service.settings import Settings

    client = TestClient(create_app(Settings(api_keys="rl-key", rate_limit_per_minute=2)))
    codes = [client.post("/v1/classify", json={"texts": ["暖气不热"]}, headers={"Authorization": "Bearer rl-key"}).status_code for _ in range(3)]
    assert codes == [200, 200, 429]
