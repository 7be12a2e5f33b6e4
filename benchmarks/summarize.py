"""Key-sentence selection against human summaries: character ROUGE-1/2/L on LCSTS part III.

    python benchmarks/summarize.py

Data: ../shared/data/lcsts/lcsts_part3.txt, items with a human score >= 3. Each short text is split
into sentences; every method picks one sentence (and, second table, up to two clauses), scored
against the human summary with character-level ROUGE F1. Methods: Minyi's key_sentences, the lead
sentence, TextRank. Also times drafts for 200 clusters of the demo export.
"""

from __future__ import annotations

import re
import sys
import time
from pathlib import Path

import numpy as np

from nlp.summarize.sentences import key_sentences, lead, split_sentences, textrank

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lcsts" / "lcsts_part3.txt"
HOTSPOT = DATA.parents[1] / "tipdm2020c" / "hotspot_messages_fj3.xlsx"
_CLAUSE = re.compile(r"(?<=[，,。！？!?；;])")


def load() -> list[tuple[str, str]]:
    text = DATA.read_text(encoding="utf-8")
    items = []
    for doc in re.findall(r"<doc id=\d+>(.*?)</doc>", text, re.S):
        score = int(re.search(r"<human_label>(\d)</human_label>", doc).group(1))
        summary = re.search(r"<summary>(.*?)</summary>", doc, re.S).group(1).strip()
        short = re.search(r"<short_text>(.*?)</short_text>", doc, re.S).group(1).strip()
        if score >= 3:
            items.append((short, summary))
    return items


def _ngrams(s: str, n: int) -> dict[str, int]:
    out: dict[str, int] = {}
    for i in range(len(s) - n + 1):
        out[s[i : i + n]] = out.get(s[i : i + n], 0) + 1
    return out


def _f1(overlap: float, a: int, b: int) -> float:
    if not a or not b or not overlap:
        return 0.0
    p, r = overlap / a, overlap / b
    return 2 * p * r / (p + r)


def rouge(candidate: str, reference: str) -> tuple[float, float, float]:
    """Character-level ROUGE-1, ROUGE-2 and ROUGE-L F1."""
    scores = []
    for n in (1, 2):
        c, r = _ngrams(candidate, n), _ngrams(reference, n)
        overlap = sum(min(v, r.get(g, 0)) for g, v in c.items())
        scores.append(_f1(overlap, sum(c.values()), sum(r.values())))
    # LCS by dynamic programming
    prev = [0] * (len(reference) + 1)
    for ch in candidate:
        cur = [0]
        for j, rc in enumerate(reference):
            cur.append(prev[j] + 1 if ch == rc else max(prev[j + 1], cur[j]))
        prev = cur
    scores.append(_f1(prev[-1], len(candidate), len(reference)))
    return tuple(scores)


def evaluate(items, unit: str) -> dict[str, np.ndarray]:
    results = {"minyi key_sentences": [], "lead": [], "textrank": []}
    for short, summary in items:
        if unit == "sentence":
            parts = split_sentences(short, min_chars=2) or [short]
        else:
            parts = [p.strip() for p in _CLAUSE.split(short) if len(p.strip()) >= 2] or [short]
        k = 1 if unit == "sentence" else 2
        ours = key_sentences(parts, k, positions=list(range(len(parts))))
        for name, pick in (("minyi key_sentences", ours), ("lead", lead(parts, k)), ("textrank", textrank(parts, k))):
            chosen = "".join(parts[i] for i in sorted(pick))
            results[name].append(rouge(chosen, summary))
    return {k: np.array(v) for k, v in results.items()}


def draft_speed(clusters: int = 200) -> tuple[int, float, float]:
    """Seconds to draft the ``clusters`` hottest clusters of the hot-issue set, and to write them."""
    import tempfile

    from nlp import Pipeline, PipelineConfig, read_table
    from nlp.outputs.drafts import write_drafts

    pipeline = Pipeline(PipelineConfig(drafts="none"))
    result = pipeline.run(read_table(HOTSPOT))
    start = time.perf_counter()
    drafts = pipeline.draft(result.opinions, result.clusters, f"top {clusters}")
    drafting = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        write_drafts(drafts, out)
        writing = time.perf_counter() - start
    return len(drafts), drafting, writing


def main() -> None:
    if not DATA.exists():
        sys.exit(f"{DATA} not found: this benchmark needs the shared evaluation data")
    items = load()
    print(f"LCSTS part III, human score >= 3: {len(items)} items; character ROUGE F1")
    for unit, label in (("sentence", "one sentence"), ("clause", "two clauses")):
        print()
        print(f"picking {label}")
        print("| method | ROUGE-1 | ROUGE-2 | ROUGE-L |")
        print("|---|---|---|---|")
        for name, values in evaluate(items, unit).items():
            r1, r2, rl = values.mean(axis=0)
            print(f"| {name} | {r1:.3f} | {r2:.3f} | {rl:.3f} |")
    if HOTSPOT.exists():
        n, drafting, writing = draft_speed()
        print()
        print(f"drafts for the {n} hottest clusters of {HOTSPOT.name}: {drafting:.1f} s drafting, {writing:.1f} s writing .md + .docx + jsonl")


if __name__ == "__main__":
    main()
