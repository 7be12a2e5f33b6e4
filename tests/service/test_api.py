"""The HTTP API over a real uvicorn server on a free loopback port."""

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from service.devserver import running_server  # noqa: E402  (after the skips above)

KEY = "test-key-1"


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    log = tmp_path_factory.mktemp("server") / "server.log"
    with running_server(
        log,
        api_keys=f"other,{KEY}",
        max_texts=50,
        rate_limit_per_minute=1000,
        max_body_bytes=200000,
    ) as base:
        yield base, log


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


def test_rate_limit_gives_429(tmp_path):
    with running_server(tmp_path / "rl.log", api_keys="rl-key", rate_limit_per_minute=2) as base:
        codes = [
            call(base, "/v1/classify", {"texts": ["暖气不热"]}, key="rl-key").status_code
            for _ in range(3)
        ]
    assert codes == [200, 200, 429]
