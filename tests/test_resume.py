"""A run killed part way (SIGKILL) and started again with --resume: every row once, as if never killed."""

import os
import shutil
import signal
import subprocess
import sys
import time

import pandas as pd
import pytest

from nlp.core.resources import corpus_path

pytestmark = pytest.mark.slow


def command(*args):
    exe = shutil.which("minyi")
    return [exe, *args] if exe else [sys.executable, "-m", "nlp.cli", *args]


@pytest.fixture(scope="module")
def export(tmp_path_factory):
    """960 rows: the sample three times over, each copy with its own ids."""
    sample = pd.read_csv(corpus_path("sample_opinions.csv"), dtype=str, keep_default_na=False)
    parts = []
    for k in range(3):
        part = sample.copy()
        part["编号"] = [f"{k}-{i}" for i in part["编号"]]
        part["意见内容"] = part["意见内容"] + ("" if k == 0 else f"（第{k}次反映）")
        parts.append(part)
    path = tmp_path_factory.mktemp("resume") / "big.csv"
    pd.concat(parts).to_csv(path, index=False, encoding="utf-8-sig")
    return path


def _children(pid: int) -> list[int]:
    found = subprocess.run(
        ["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True
    ).stdout
    return [int(p) for p in found.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    state = subprocess.run(
        ["ps", "-o", "stat=", "-p", str(pid)], capture_output=True, text=True
    ).stdout.strip()
    return bool(state) and not state.startswith("Z")


def read(folder):
    return pd.read_csv(
        folder / "opinions.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str
    )


def test_killed_run_resumes_from_its_blocks_with_every_row_once(export, tmp_path):
    out = tmp_path / "out"
    args = command("score", str(export), "--out", str(out), "--resume", "--block-size", "120", "-q")
    running = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    work = out / ".minyi-work"
    deadline = time.monotonic() + 300
    while (
        len(list(work.glob("block-*.pickle"))) < 3
        and running.poll() is None
        and time.monotonic() < deadline
    ):
        time.sleep(0.05)
    assert running.poll() is None, "the run ended before it could be killed"
    workers = _children(running.pid)
    os.kill(running.pid, signal.SIGKILL)
    running.wait()
    saved = len(list(work.glob("block-*.pickle")))
    assert 3 <= saved < 8 and not (out / "opinions.csv").exists()
    # Its worker processes do not outlive it.
    deadline = time.monotonic() + 10
    while any(_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert workers and not any(_alive(pid) for pid in workers)

    again = subprocess.run(args, capture_output=True, text=True, timeout=600)
    assert again.returncode == 0, again.stderr
    assert (
        f"resuming: {saved} saved block(s)" in again.stderr
        and f"{saved} saved block(s) reused, {8 - saved} computed" in again.stdout
    )
    assert not work.exists() and not list(out.glob(".*.tmp"))

    reference = tmp_path / "reference"
    plain = subprocess.run(
        command("score", str(export), "--out", str(reference), "--block-size", "120", "-q"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert plain.returncode == 0, plain.stderr
    resumed, whole = read(out), read(reference)
    assert (
        len(resumed) == 960
        and resumed["id"].is_unique
        and resumed["row"].tolist() == [str(i) for i in range(960)]
    )
    pd.testing.assert_frame_equal(resumed, whole)


def test_resume_ignores_blocks_of_another_input(export, tmp_path):
    out = tmp_path / "out"
    other = tmp_path / "other.csv"
    other.write_text("意见内容\n暖气不热\n", encoding="utf-8")
    first = subprocess.run(
        command("score", str(other), "--out", str(out), "--resume", "-q"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert first.returncode == 0, first.stderr
    (out / ".minyi-work").mkdir()
    (out / ".minyi-work" / "manifest.json").write_text(
        '{"format": "minyi-checkpoint/1", "input": "another"}', encoding="utf-8"
    )
    (out / ".minyi-work" / "block-000000.pickle").write_bytes(b"not a block of this input")
    second = subprocess.run(
        command("score", str(other), "--out", str(out), "--resume", "-q"),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert second.returncode == 0, second.stderr
    assert "resuming" not in second.stderr and read(out)["text"].tolist() == ["暖气不热"]
