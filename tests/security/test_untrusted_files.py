"""Untrusted files are read safely: a file that claims a huge table, or is not what its name
says, stops with one clear error before any table is built, and the process barely grows."""

import json
import re
import subprocess
import sys
import textwrap

import pandas as pd
import pytest
from hostile_files import xlsx

from nlp.io import read_table

# Reads a file in a fresh process and reports how it ended and by how much the process grew at
# its peak: VmHWM, the high-water mark of this process's memory, reset before the read. (The
# rusage peak would not do: it keeps the parent's, pytest's, across fork and exec.) The address
# space is capped at what the process has mapped plus 2 GiB, so that a reader building the table
# after all fails at once instead of taking the machine's memory.
_MEASURE = textwrap.dedent("""
    import json, os, resource, sys, time
    import numpy, pandas, python_calamine  # imported before measuring
    from nlp.core.errors import InputError
    from nlp.io import read_table

    def status(field):
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith(field + ":"))
        return int(line.split()[1]) * 1024

    resource.setrlimit(resource.RLIMIT_AS, (status("VmSize") + 2 * 2**30, resource.RLIM_INFINITY))
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # the high-water mark starts again from here
    except OSError:
        pass  # then it counts the imports' peak too: more, not less
    before, start = status("VmRSS"), time.perf_counter()
    try:
        read_table(sys.argv[1])
        outcome = "read"
    except InputError as e:
        outcome = "InputError: " + str(e)
    print(json.dumps({"outcome": outcome, "seconds": time.perf_counter() - start,
                      "grown_mib": (status("VmHWM") - before) / 2**20}))
""")


def measure_read(path):
    done = subprocess.run(
        [sys.executable, "-c", _MEASURE, str(path)],
        check=False,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    return json.loads(done.stdout)


@pytest.mark.parametrize(
    ("last", "dimension", "message"),
    [
        (
            "XFD1048576",
            "A1:XFD1048576",
            r"reaches column XFD, 16,384 columns .*A1:XFD1048576.*at most 200 columns",
        ),
        ("XFD1048576", "A1:B2", r"reaches column XFD.*declares A1:B2"),  # the dimension lies
        ("GR1048576", "A1:GR1048576", r"209,715,200 cells.*at most 30,000,000 cells"),
        ("A99999999", "A1:A2", r"reaches row 99,999,999.*at most 5,000,000 rows"),
    ],
)
def test_xlsx_bomb_fails_fast_and_the_process_barely_grows(tmp_path, last, dimension, message):
    bomb = xlsx(tmp_path / "bomb.xlsx", {"A1": "留言详情", "A2": "暖气不热", last: "x"}, dimension)
    assert bomb.stat().st_size < 2000
    found = measure_read(bomb)
    assert re.search(message, found["outcome"]), found["outcome"]
    assert found["seconds"] < 5 and found["grown_mib"] < 100, found


def test_jsonl_of_100000_distinct_keys_fails_fast_and_the_process_barely_grows(tmp_path):
    path = tmp_path / "keys.jsonl"
    path.write_text(
        "".join(f'{{"字段{i}": "暖气不热"}}\n' for i in range(100_000)), encoding="utf-8"
    )
    found = measure_read(path)
    assert found["outcome"].startswith("InputError: ") and "at most 200 columns" in found["outcome"]
    assert found["grown_mib"] < 100, found


def test_xlsx_declaring_a_huge_dimension_over_few_cells_is_read(tmp_path):
    path = xlsx(tmp_path / "wide_claim.xlsx", {"A1": "留言详情", "A2": "暖气不热"}, "A1:XFD1048576")
    assert measure_read(path)["outcome"] == "read"
    assert read_table(path).frame["留言详情"].tolist() == ["暖气不热"]


def _truncated(path):
    pd.DataFrame({"留言详情": ["暖气不热"] * 200}).to_excel(path, index=False)
    path.write_bytes(path.read_bytes()[:700])


@pytest.mark.parametrize(
    ("name", "make", "message"),
    [
        ("cut.xlsx", _truncated, "damaged or truncated"),
        ("empty.xlsx", lambda p: p.write_bytes(b""), "empty"),
        (
            "gbk.xlsx",
            lambda p: p.write_bytes("编号,意见\n1,暖气不热\n".encode("gbk")),
            "rename it to gbk.csv",
        ),
        (
            "page.xls",
            lambda p: p.write_bytes("<html><table><tr><td>暖气</td></tr></table></html>".encode()),
            "HTML",
        ),
        (
            "tabs.xls",
            lambda p: p.write_bytes("编号\t意见\n1\t暖气不热\n".encode("gbk")),
            "tabs.tsv",
        ),
        (
            "bomb.xlsx",
            lambda p: xlsx(p, {"A1": "意见", "XFD1048576": "x"}, "A1:XFD1048576"),
            "at most 200",
        ),
    ],
)
def test_minyi_score_stops_on_unreadable_workbooks_with_one_line(
    tmp_path, minyi, name, make, message
):
    path = tmp_path / name
    make(path)
    done = minyi("score", str(path), "--out", str(tmp_path / "out"), "-q")
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("minyi: error: ") and message in lines[0], (
        done.stderr
    )
    assert "Traceback" not in done.stderr
