"""Checks of the same-issue gold set (corpora/same_issue/short.csv).

The file groups short opinions into same-issue groups so that the clusterer can be measured;
these tests hold it to its documented shape, not to any clustering result.
"""

from __future__ import annotations

import csv
import io
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).parents[2]
GOLD = ROOT / "corpora" / "same_issue" / "short.csv"
TAXONOMY = ROOT / "corpora" / "taxonomy.yaml"

MAX_LEN = 60


@pytest.fixture(scope="module")
def raw() -> bytes:
    return GOLD.read_bytes()


@pytest.fixture(scope="module")
def header_and_rows(raw: bytes) -> tuple[list[str], list[list[str]]]:
    reader = csv.reader(io.StringIO(raw.decode("utf-8"), newline=""))
    header = next(reader)
    return header, list(reader)


@pytest.fixture(scope="module")
def rows(header_and_rows) -> list[dict[str, str]]:
    header, body = header_and_rows
    return [dict(zip(header, r)) for r in body]


@pytest.fixture(scope="module")
def level2_names() -> set[str]:
    tax = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    return {child["name"] for parent in tax["classes"] for child in parent.get("children", [])}


def test_utf8_without_bom(raw: bytes) -> None:
    assert not raw.startswith(b"\xef\xbb\xbf")
    raw.decode("utf-8")


def test_header_and_columns(header_and_rows) -> None:
    header, body = header_and_rows
    assert header == ["group", "topic", "text"]
    bad = [i for i, r in enumerate(body, start=2) if len(r) != 3]
    assert not bad, f"lines without exactly three fields: {bad[:10]}"


def test_group_ids_are_well_formed(rows) -> None:
    bad = [r["group"] for r in rows if not (r["group"][:1] == "S" and r["group"][1:].isdigit())]
    assert not bad, bad[:10]


def test_texts_non_empty_and_short(rows) -> None:
    empty = [r["group"] for r in rows if not r["text"].strip()]
    assert not empty, f"empty texts in {empty}"
    long = [(r["group"], len(r["text"]), r["text"]) for r in rows if len(r["text"]) > MAX_LEN]
    assert not long, long


def test_size(rows) -> None:
    groups = {r["group"] for r in rows}
    assert len(rows) >= 440
    assert len(groups) >= 110


def test_topics_are_level2_classes(rows, level2_names) -> None:
    unknown = sorted({r["topic"] for r in rows} - level2_names)
    assert not unknown, unknown


def test_each_group_has_one_topic(rows) -> None:
    topics: dict[str, set[str]] = defaultdict(set)
    for r in rows:
        topics[r["group"]].add(r["topic"])
    mixed = {g: t for g, t in topics.items() if len(t) > 1}
    assert not mixed, mixed


def test_coverage(rows, level2_names) -> None:
    tax = yaml.safe_load(TAXONOMY.read_text(encoding="utf-8"))
    parent_of = {c["name"]: p["name"] for p in tax["classes"] for c in p.get("children", [])}
    topics = {r["topic"] for r in rows}
    assert len(topics) >= 45
    assert len({parent_of[t] for t in topics if t in parent_of}) >= 10


def test_group_sizes_vary(rows) -> None:
    sizes: dict[str, int] = defaultdict(int)
    for r in rows:
        sizes[r["group"]] += 1
    counts = list(sizes.values())
    assert sum(1 for n in counts if n == 1) >= 10, "expected singleton groups"
    assert sum(1 for n in counts if 2 <= n <= 5) >= 50
    assert sum(1 for n in counts if n >= 6) >= 5


def test_no_duplicate_text_across_groups(rows) -> None:
    seen: dict[str, str] = {}
    clashes = []
    for r in rows:
        text = r["text"].strip()
        if text in seen and seen[text] != r["group"]:
            clashes.append((text, seen[text], r["group"]))
        seen.setdefault(text, r["group"])
    assert not clashes, clashes
