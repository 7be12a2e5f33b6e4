from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = ROOT.parent / "shared" / "data"


def _minyi(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    """Run the installed ``minyi`` command (falling back to ``python -m nlp.cli``)."""
    exe = shutil.which("minyi")
    cmd = [exe, *args] if exe else [sys.executable, "-m", "nlp.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, cwd=cwd, timeout=600)


@pytest.fixture(scope="session")
def pipeline():
    from nlp import Pipeline

    return Pipeline()


@pytest.fixture
def shared_data() -> Path:
    if not SHARED_DATA.is_dir():
        pytest.skip("../shared/data is not present")
    return SHARED_DATA


@pytest.fixture(scope="session")
def minyi():
    """Run the ``minyi`` command in a real subprocess: ``minyi("score", path, "--out", out)``."""
    return _minyi
