"""Storing opinions, clusters, drafts and batch jobs over a real server and a real database
(SQLite; the same tests on PostgreSQL when a server can be started)."""

import io
import signal
import time
from contextlib import nullcontext

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from tests_support import postgres_url  # noqa: E402

from service.devserver import running_server, start_server  # noqa: E402

KEY = "store-key"
H = {"Authorization": f"Bearer {KEY}"}
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
ROAD = [
    {
        "text": "青石村那条路坑坑洼洼好几年了，有事打13912345678",
        "external_id": "Q-1",
        "time": "2024-11-01 09:00",
        "place": "青石村",
        "source": "接待日",
    },
    {
        "text": "青石村的路太烂了，坑坑洼洼没法走",
        "external_id": "Q-2",
        "time": "2024-11-04 10:00",
        "source": "小程序",
    },
    {
        "text": "暖气不热，屋里才十五度",
        "external_id": "Q-3",
        "time": "2024-11-20 08:00",
        "source": "12345",
    },
]


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def server(request, tmp_path_factory):
    folder = tmp_path_factory.mktemp(request.param)
    with (
        postgres_url()
        if request.param == "postgresql"
        else nullcontext(f"sqlite:///{folder / 'minyi.sqlite'}") as url
    ):
        if url is None:
            pytest.skip(
                "no PostgreSQL server can be started here (set MINYI_TEST_DATABASE_URL to use one)"
            )
        with running_server(
            folder / "server.log",
            api_keys=KEY,
            database_url=url,
            data_dir=folder / "data",
            rate_limit_per_minute=100000,
        ) as base:
            DATABASES[base] = url
            yield base


DATABASES: dict[str, str] = {}  # server → its database URL


def post(base, path, body, **kw):
    return httpx.post(
        f"{base}{path}", json=body, headers={**H, **kw.pop("headers", {})}, timeout=120, **kw
    )


def get(base, path, **params):
    return httpx.get(f"{base}{path}", params=params, headers=H, timeout=60)


def test_opinions_are_stored_masked_clustered_and_idempotent(server):
    first = post(server, "/v1/opinions", {"opinions": ROAD})
    assert first.status_code == 200
    rows = first.json()["results"]
    assert [r["external_id"] for r in rows] == ["Q-1", "Q-2", "Q-3"] and all(
        r["created"] for r in rows
    )
    assert rows[0]["cluster"] == rows[1]["cluster"] != rows[2]["cluster"]
    assert rows[2]["level2"] == "供暖" and rows[0]["department"] == "交通运输局"
    # Sent again (with a changed text even): the stored result comes back, nothing is added.
    again = post(
        server, "/v1/opinions", {"opinions": [{**ROAD[0], "text": "完全不同的内容"}, ROAD[0]]}
    )
    assert [r["created"] for r in again.json()["results"]] == [False, False]
    assert again.json()["results"][0]["cluster"] == rows[0]["cluster"]
    # A new opinion about the same road joins the stored cluster.
    later = post(
        server,
        "/v1/opinions",
        {
            "opinions": [
                {
                    "text": "青石村道路还是坑坑洼洼，一下雨全是泥",
                    "external_id": "Q-4",
                    "time": "2024-12-02",
                }
            ]
        },
    )
    assert later.json()["results"][0]["cluster"] == rows[0]["cluster"]
    detail = get(server, f"/v1/clusters/{rows[0]['cluster']}").json()
    assert detail["size"] == 3 and sorted(m["external_id"] for m in detail["members"]) == [
        "Q-1",
        "Q-2",
        "Q-4",
    ]
    assert not any("13912345678" in m["text"] for m in detail["members"])  # masked before storing
    assert (
        sum(p["count"] for p in detail["trend"]) == 3
        and detail["first_seen"] == "2024-11-01"
        and detail["last_seen"] == "2024-12-02"
    )


def test_clusters_filter_and_paginate(server):
    post(server, "/v1/opinions", {"opinions": ROAD})
    everything = get(server, "/v1/clusters").json()
    assert everything["total"] >= 2
    heats = [c["heat"] for c in everything["items"]]
    assert heats == sorted(heats, reverse=True)
    heating = get(server, "/v1/clusters", level2="供暖").json()
    assert heating["total"] >= 1 and all(c["level2"] == "供暖" for c in heating["items"])
    assert all(
        "青石村" in c["places"] for c in get(server, "/v1/clusters", place="青石村").json()["items"]
    )
    assert get(server, "/v1/clusters", since="2030-01-01").json()["total"] == 0
    page = get(server, "/v1/clusters", limit=1, offset=1).json()
    assert (
        len(page["items"]) == 1 and page["items"][0]["cluster"] == everything["items"][1]["cluster"]
    )
    assert get(server, "/v1/clusters", limit=0).status_code == 422
    missing = get(server, "/v1/clusters/C2099Q1-9999")
    assert missing.status_code == 404 and "C2099Q1-9999" in missing.json()["error"]


def test_draft_as_json_and_docx(server):
    cluster = post(server, "/v1/opinions", {"opinions": ROAD}).json()["results"][0]["cluster"]
    draft = post(server, f"/v1/clusters/{cluster}/draft", None)
    assert draft.status_code == 200
    body = draft.json()
    assert (
        body["cluster"] == cluster
        and "青石村" in body["title"]
        and body["sections"]["承办单位"] == "交通运输局"
    )
    cited = {s for item in body["sections"]["存在问题"] for s in item["sources"]}
    assert cited <= {"Q-1", "Q-2", "Q-4"} and cited
    word = post(server, f"/v1/clusters/{cluster}/draft", None, headers={"Accept": DOCX})
    assert word.status_code == 200 and word.headers["content-type"] == DOCX
    from docx import Document

    text = "\n".join(p.text for p in Document(io.BytesIO(word.content)).paragraphs)
    assert body["title"] in text


def test_batch_upload_runs_in_the_background_and_serves_its_files(server):
    lines = ["留言编号,留言时间,留言详情", "1,2024-10-02,暖气不热，屋里才十五度", "2,2024-10-03,"]
    csv = "\n".join([*lines, "3,2024-10-05,医保报销要跑好几趟", ""]).encode("gbk")
    r = httpx.post(
        f"{server}/v1/batches", headers=H, files={"file": ("export.csv", csv)}, timeout=60
    )
    assert r.status_code == 202 and r.json()["status"] == "queued"
    job = _wait(server, r.json()["id"])
    assert job["status"] == "done" and job["summary"]["status"] == {"ok": 2, "empty": 1, "error": 0}
    names = {f["name"]: f["url"] for f in job["files"]}
    assert {"opinions.csv", "clusters.csv", "report.html"} <= set(names)
    table = httpx.get(f"{server}{names['opinions.csv']}", headers=H).content.decode("utf-8-sig")
    assert table.count("\n") == 4 and "医保报销" in table
    assert (
        httpx.get(f"{server}/v1/batches/{r.json()['id']}/files/..%2Fsecret", headers=H).status_code
        == 404
    )
    bad = httpx.post(
        f"{server}/v1/batches", headers=H, files={"file": ("notes.pdf", b"%PDF")}, timeout=60
    )
    assert bad.status_code == 422 and ".csv" in bad.json()["error"]
    assert httpx.get(f"{server}/v1/batches/nope", headers=H).status_code == 404
    assert httpx.get(f"{server}/v1/batches/{r.json()['id']}").status_code == 401


def _wait(base, job, seconds=180):
    deadline = time.time() + seconds
    while time.time() < deadline:
        state = get(base, f"/v1/batches/{job}").json()
        if state["status"] in ("done", "failed"):
            return state
        time.sleep(0.5)
    raise AssertionError(f"batch {job} did not finish: {state}")


def test_a_batch_survives_a_killed_server(tmp_path):
    """SIGKILL the server while a job runs; a new server on the same database finishes it."""
    settings = {
        "api_keys": KEY,
        "database_url": f"sqlite:///{tmp_path / 'minyi.sqlite'}",
        "data_dir": tmp_path / "data",
        "job_lease_seconds": 10,  # renewed each second; the killed server's lease runs out soon
    }
    lines = ["留言时间,留言详情"] + [
        f"2024-10-{1 + i % 28:02d},第{i}条：小区{i % 40}号楼暖气不热，屋里才十五度，希望尽快处理"
        for i in range(1200)
    ]
    proc, base = start_server(tmp_path / "server.log", **settings)
    try:
        r = httpx.post(
            f"{base}/v1/batches",
            headers=H,
            files={"file": ("big.csv", "\n".join(lines).encode())},
            timeout=60,
        )
        job = r.json()["id"]
        for _ in range(600):
            if get(base, f"/v1/batches/{job}").json()["status"] == "running":
                break
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=10)
    finally:
        if proc.poll() is None:
            proc.kill()
    with running_server(tmp_path / "server2.log", **settings) as base:
        state = _wait(base, job, seconds=300)
        assert state["status"] == "done" and state["attempts"] == 2
        assert state["summary"]["status"]["ok"] == 1200
        table = httpx.get(
            f"{base}/v1/batches/{job}/files/opinions.csv", headers=H, timeout=60
        ).content.decode("utf-8-sig")
        assert table.count("\n") == 1201


def test_an_upload_over_the_limit_is_413_and_leaves_nothing_behind(tmp_path):
    settings = {
        "api_keys": KEY,
        "database_url": f"sqlite:///{tmp_path / 'minyi.sqlite'}",
        "data_dir": tmp_path / "data",
        "max_upload_bytes": 1000,
    }
    with running_server(tmp_path / "server.log", **settings) as base:
        r = httpx.post(
            f"{base}/v1/batches",
            headers=H,
            files={"file": ("big.csv", b"text\n" + "暖气不热\n".encode() * 400)},
            timeout=60,
        )
        assert r.status_code == 413 and "over the limit" in r.json()["error"]
    assert not list((tmp_path / "data").glob("batches/*/big.csv"))


def test_review_decisions_show_in_the_service(server):
    from nlp.clustering.review import Review

    rows = post(server, "/v1/opinions", {"opinions": ROAD}).json()["results"]
    with Review(DATABASES[server], who="指导员") as review:
        review.mark(rows[0]["cluster"], "已转办", why="转交通运输局")
        review.rename(rows[0]["cluster"], "青石村道路破损")
    verified = get(server, "/v1/clusters", status="已转办").json()
    assert [c["cluster"] for c in verified["items"]] == [rows[0]["cluster"]]
    assert (
        verified["items"][0]["title"] == "青石村道路破损"
        and verified["items"][0]["status"] == "已转办"
    )
    assert get(server, "/v1/clusters", status="done").status_code == 422
    # A later opinion about the same road joins the reviewed cluster, which keeps its title.
    post(
        server,
        "/v1/opinions",
        {
            "opinions": [
                {
                    "text": "青石村那条路坑坑洼洼，车都开不了",
                    "external_id": "Q-9",
                    "time": "2024-12-03",
                }
            ]
        },
    )
    detail = get(server, f"/v1/clusters/{rows[0]['cluster']}").json()
    assert (
        detail["title"] == "青石村道路破损"
        and detail["status"] == "已转办"
        and "Q-9" in [m["external_id"] for m in detail["members"]]
    )
    # A draft from the service is addressed to the body the reviewer set, as Review.cluster()'s is.
    with Review(DATABASES[server], who="指导员") as review:
        review.set_department(rows[0]["cluster"], "青石镇人民政府")
        expected = review.cluster(rows[0]["cluster"]).draft.to_dict()
    draft = httpx.post(
        f"{server}/v1/clusters/{rows[0]['cluster']}/draft", headers=H, timeout=60
    ).json()
    assert "青石镇人民政府" in str(draft["sections"]) and draft["sections"] == expected["sections"]
