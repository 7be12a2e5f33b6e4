"""A file with names, phones, ID numbers and e-mail in its text, user and note columns, scored
with ``--state`` on SQLite and on PostgreSQL: none of those strings is in the database (read
back whole), in any output file, or in anything the command prints; files are 0600 and folders
0700; a 5,000-character opinion is stored."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
import sqlalchemy as sa
from tests_support import ROOT, postgres_url

pytestmark = pytest.mark.slow

PERSONAL = [
    "王建国",
    "李秀英",
    "张伟",
    "13907551234",
    "15811112222",
    "110101199003074518",
    "wangjg@example.com",
    "lixy@163.com",
]
SECRET = "a9" * 32

LONG = ("青石村那条路坑坑洼洼好几年了，下雨天积水没法走，" * 250)[:4987]
SIGNED = "张伟13907551234"  # closes the long opinion at its 5,000th character


def personal_file(path: Path) -> Path:
    rows = [
        (
            "A1",
            "2024-08-01 10:00",
            "王建国",
            "我叫王建国，电话13907551234，身份证110101199003074518，邮箱wangjg@example.com，"
            "青石村那条路坑坑洼洼好几年了没人修",
            "联系人王建国 13907551234",
        ),
        (
            "A2",
            "2024-08-02 11:00",
            "李秀英",
            "幸福小区电梯又坏了，老人爬不动楼，请联系李秀英 15811112222 或 lixy@163.com",
            "回访李秀英，邮箱lixy@163.com",
        ),
        ("A3", "2024-08-03 12:00", "王建国", "青石村那条路坑坑洼洼好几年了没人修", ""),
        ("A4", "2024-08-04 09:00", "张伟", LONG + SIGNED, "张伟反映"),
    ]
    columns = ["留言编号", "留言时间", "留言用户", "留言详情", "备注"]
    pd.DataFrame(rows, columns=columns).to_csv(path, index=False)
    assert len(rows[3][3]) == 5000
    return path


def minyi(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "MINYI_SECRET": SECRET}
    cmd = [sys.executable, "-m", "nlp.cli", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=600, env=env)


def score(path: Path, out: Path, state: str) -> subprocess.CompletedProcess:
    done = minyi(
        "score",
        str(path),
        "--out",
        str(out),
        "--state",
        state,
        "--user-column",
        "留言用户",
        "--id-column",
        "留言编号",
        "--time-column",
        "留言时间",
        "--resume",
        "--engine",
        "inline",
        "--max-chars",
        "5000",
    )
    assert done.returncode == 0, done.stderr
    return done


def database_text(url: str) -> str:
    """Every value of every column of every table, as text."""
    engine = sa.create_engine(url)
    try:
        with engine.connect() as conn:
            tables = sa.inspect(conn).get_table_names()
            parts = []
            for table in tables:
                for row in conn.execute(sa.text(f'SELECT * FROM "{table}"')):
                    parts.extend(
                        v.decode("utf-8", "replace") if isinstance(v, bytes) else str(v)
                        for v in row
                    )
            return "\n".join(parts)
    finally:
        engine.dispose()


def files_text(folder: Path) -> str:
    """Every file under ``folder``, decoded (xlsx files are zip archives: read as tables)."""
    parts = []
    for path in folder.rglob("*"):
        if path.suffix == ".xlsx":
            sheets = pd.read_excel(path, sheet_name=None, dtype=str, engine="openpyxl")
            parts.extend(sheet.to_csv() for sheet in sheets.values())
        elif path.is_file():
            parts.append(path.read_bytes().decode("utf-8", "replace"))
    return "\n".join(parts)


def assert_nothing_personal(where: str, text: str) -> None:
    found = [s for s in PERSONAL if s in text]
    assert not found, f"{where} holds {found}"


def assert_private(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o700 if path.is_dir() else 0o600), f"{path}: {oct(mode)}"


def test_score_with_sqlite_state_leaves_no_personal_data(tmp_path):
    path = personal_file(tmp_path / "in.csv")
    out, state = tmp_path / "out", tmp_path / "state"
    done = score(path, out, str(state))
    assert_nothing_personal("the messages", done.stdout + done.stderr)
    assert_nothing_personal("the outputs", files_text(out))
    database = state / "minyi.sqlite"
    dump = "\n".join(sqlite3.connect(database).iterdump())
    assert_nothing_personal("the SQLite dump", dump)
    raw = b"".join(p.read_bytes() for p in state.iterdir())
    assert not [s for s in PERSONAL if s.encode() in raw], "the state's files hold personal data"
    assert_private(out)
    assert_private(state)
    assert LONG in dump  # the long opinion is stored whole
    opinions = pd.read_csv(out / "opinions.csv", dtype=str, keep_default_na=False)
    users = opinions["user"].tolist()
    assert users[0] == users[2] != users[1] and users[0].startswith("用户-")


def test_score_with_postgresql_state_leaves_no_personal_data(tmp_path):
    with postgres_url() as url:
        if url is None:
            pytest.skip("no PostgreSQL server here")
        path = personal_file(tmp_path / "in.csv")
        done = score(path, tmp_path / "out", url)
        assert_nothing_personal("the messages", done.stdout + done.stderr)
        assert_nothing_personal("the outputs", files_text(tmp_path / "out"))
        stored = database_text(url)
        assert_nothing_personal("the PostgreSQL tables", stored)
        assert LONG in stored
        # The same file again: every opinion is found by its keyed hashes, nothing is added.
        again = score(path, tmp_path / "again", url)
        assert_nothing_personal("the messages", again.stdout + again.stderr)
        assert database_text(url).count(LONG) == 1
