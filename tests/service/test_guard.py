"""Limits before work, over a real uvicorn server and real sockets: the key is checked before
the body is read, the body is counted as it streams (chunked included), and failed
authentications are rate-limited per address."""

import socket
import threading
import time
from pathlib import Path

import pytest

httpx = pytest.importorskip("httpx")
pytest.importorskip("fastapi")

from service.devserver import start_server  # noqa: E402

KEY = "guard-key"
MIB = 1 << 20


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    folder = tmp_path_factory.mktemp("guard")
    settings = {"api_keys": KEY, "database_url": f"sqlite:///{folder / 'm.sqlite'}"}
    settings.update(data_dir=folder / "data", max_body_bytes=MIB, batch_workers=0)
    proc, base = start_server(folder / "server.log", wait="/readyz", **settings)
    yield proc, base
    proc.terminate()
    proc.wait(timeout=10)


def _kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def send_chunked(base: str, path: str, headers: dict, total: int) -> tuple[int, int]:
    """POST ``total`` bytes as a chunked body, 1 MiB a chunk, until the server answers or
    closes; returns the status and the bytes sent."""
    host, port = base.removeprefix("http://").split(":")
    sock = socket.create_connection((host, int(port)), timeout=30)
    head = [f"POST {path} HTTP/1.1", f"Host: {host}", "Transfer-Encoding: chunked"]
    head += ["Content-Type: application/json", *(f"{k}: {v}" for k, v in headers.items())]
    sock.sendall(("\r\n".join(head) + "\r\n\r\n").encode())
    answer = bytearray()

    def read():
        try:
            while b"\r\n" not in answer and (data := sock.recv(65536)):
                answer.extend(data)
        except OSError:
            pass

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    chunk = b"%x\r\n" % MIB + b"[" * MIB + b"\r\n"
    sent = 0
    try:
        while sent < total and reader.is_alive():
            sock.sendall(chunk)
            sent += MIB
        if sent >= total:
            sock.sendall(b"0\r\n\r\n")
    except OSError:  # the server closed the connection: the rest is never read
        pass
    reader.join(timeout=30)
    sock.close()
    assert answer, "no answer"
    return int(answer.split(b" ", 2)[1]), sent


def test_a_chunked_body_without_a_key_is_refused_before_it_is_read(server):
    proc, base = server
    before = _kib(proc.pid, "VmRSS")
    status, sent = send_chunked(base, "/v1/classify", {}, 200 * MIB)
    grown = (_kib(proc.pid, "VmHWM") - before) / 1024
    assert status == 401
    assert sent < 200 * MIB and grown < 100, f"sent {sent / MIB:.0f} MiB, server grew {grown} MiB"
    assert httpx.get(f"{base}/healthz").status_code == 200


def test_a_chunked_body_over_the_limit_is_413_as_it_streams(server):
    proc, base = server
    before = _kib(proc.pid, "VmRSS")
    status, sent = send_chunked(base, "/v1/classify", {"Authorization": f"Bearer {KEY}"}, 200 * MIB)
    grown = (_kib(proc.pid, "VmHWM") - before) / 1024
    assert status == 413 and sent < 200 * MIB and grown < 100
    r = httpx.post(
        f"{base}/v1/classify",
        json={"texts": ["暖气不热"]},
        headers={"Authorization": f"Bearer {KEY}"},
    )
    assert r.status_code == 200


def test_failed_authentications_are_rate_limited_per_address(tmp_path):
    settings = {"api_keys": KEY, "database_url": f"sqlite:///{tmp_path / 'm.sqlite'}"}
    settings.update(data_dir=tmp_path / "data", auth_failures_per_minute=3, batch_workers=0)
    proc, base = start_server(tmp_path / "server.log", **settings)
    try:
        wrong = {"Authorization": "Bearer guess"}
        codes = [httpx.get(f"{base}/v1/clusters", headers=wrong).status_code for _ in range(4)]
        assert codes == [401, 401, 401, 429]
        assert httpx.get(f"{base}/healthz").status_code == 200
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def test_docs_need_no_outside_asset(server):
    _, base = server
    for page in ("/docs", "/redoc"):
        html = httpx.get(f"{base}{page}").text
        assert "cdn" not in html.lower() and "https://" not in html
        for asset in [p.split('"')[0] for p in html.split('src="')[1:]]:
            assert httpx.get(f"{base}{asset}").status_code == 200, asset


def test_readyz_and_metrics(server):
    _, base = server
    assert httpx.get(f"{base}/readyz").json() == {"status": "ready"}
    metrics = httpx.get(f"{base}/metrics").text
    assert "# TYPE minyi_request_seconds histogram" in metrics
    assert "minyi_auth_failures_total" in metrics


def test_healthz_answers_while_the_pool_is_busy(server):
    _, base = server
    # Every worker thread busy classifying long texts; /healthz is answered on the event loop.
    body = {"texts": ["青石村那条路坑坑洼洼好几年了，下雨天根本没法走" * 50] * 20}
    headers = {"Authorization": f"Bearer {KEY}"}
    busy = [
        threading.Thread(
            target=httpx.post,
            args=(f"{base}/v1/classify",),
            kwargs={"json": body, "headers": headers, "timeout": 120},
        )
        for _ in range(8)
    ]
    for t in busy:
        t.start()
    start = time.perf_counter()
    assert httpx.get(f"{base}/healthz", timeout=5).status_code == 200
    assert time.perf_counter() - start < 1
    for t in busy:
        t.join()
