"""Drafts: sentence roles, the hottest drafts of the public hot-issue set, key sentences, speed.

    python benchmarks/summarize.py

1. Sentence roles on the project's labeled set (corpora/sentence_roles/*.csv): precision, recall
   and F1 per role, cross-validated two ways: five folds drawn within each file and role (seed 0),
   and each file held out in turn (a voice the model has not read); then demand precision and
   recall at several demand margins.
2. The 20 hottest drafts of ../shared/data/tipdm2020c/hotspot_messages_fj3.xlsx: whether a 建议
   holds a resident's sentence, whether 基本情况 and the reason for 广泛性 state the same numbers,
   whether each quoted problem is within the title's place, and the share of 群众诉求 items judged
   demands by hand (benchmarks/data/draft_judgements.csv: version, cluster, title, item,
   is_demand, note; the "after" items must be the drafts' items of today).
3. Key sentences against human summaries: character ROUGE-1/2/L on LCSTS part III
   (../shared/data/lcsts/lcsts_part3.txt, items with a human score >= 3); Minyi's key_sentences,
   the lead sentence, TextRank.
4. Seconds to draft the 200 hottest clusters of the hot-issue set, and to write them.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import numpy as np

from nlp.summarize.roles import ROLES, SentenceRoles, read_labeled
from nlp.summarize.sentences import key_sentences, lead, split_sentences, textrank

DATA = Path(__file__).resolve().parents[2] / "shared" / "data" / "lcsts" / "lcsts_part3.txt"
HOTSPOT = DATA.parents[1] / "tipdm2020c" / "hotspot_messages_fj3.xlsx"
JUDGEMENTS = Path(__file__).resolve().parent / "data" / "draft_judgements.csv"
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
        for name, pick in (
            ("minyi key_sentences", ours),
            ("lead", lead(parts, k)),
            ("textrank", textrank(parts, k)),
        ):
            chosen = "".join(parts[i] for i in sorted(pick))
            results[name].append(rouge(chosen, summary))
    return {k: np.array(v) for k, v in results.items()}


def _folds(labeled, seed: int = 0, k: int = 5):
    """Five folds drawn within each file and role, then each file held out in turn."""
    rng = np.random.default_rng(seed)
    fold = np.zeros(len(labeled), dtype=int)
    for rows in labeled.groupby(["file", "role"]).groups.values():
        rows = rng.permutation(np.asarray(rows))
        fold[rows] = np.arange(len(rows)) % k
    yield "5 folds within each file and role", [(fold != f, fold == f) for f in range(k)]
    files = labeled["file"].to_numpy()
    yield "each file held out", [(files != f, files == f) for f in sorted(set(files))]


def sentence_roles_benchmark(margins=(0.0, 0.1, 0.2, 0.35, 0.5)) -> None:
    """Per-role precision, recall and F1 of :class:`SentenceRoles`, cross-validated."""
    labeled = read_labeled()
    sentences, truth = labeled["sentence"].tolist(), labeled["role"].to_numpy()
    counts = ", ".join(f"{name} {n}" for name, n in labeled["file"].value_counts().items())
    print(f"sentence roles: {len(labeled)} labeled sentences ({counts})")
    for name, folds in _folds(labeled):
        predicted = np.empty(len(truth), dtype=object)
        margin = np.zeros(len(truth))
        start = time.perf_counter()
        for train, test in folds:
            model = SentenceRoles().fit([sentences[i] for i in np.where(train)[0]], truth[train])
            roles, margins_ = model.classify([sentences[i] for i in np.where(test)[0]])
            predicted[test], margin[test] = roles, margins_
        print()
        seconds = time.perf_counter() - start
        print(f"{name} ({seconds:.1f} s), demand margin {SentenceRoles().demand_margin}")
        print("| role | precision | recall | F1 | sentences |")
        print("|---|---|---|---|---|")
        for role in ROLES:
            hit = ((predicted == role) & (truth == role)).sum()
            p = hit / max((predicted == role).sum(), 1)
            r = hit / max((truth == role).sum(), 1)
            f1 = 2 * p * r / (p + r) if p + r else 0.0
            print(f"| {role} | {p:.3f} | {r:.3f} | {f1:.3f} | {(truth == role).sum()} |")
        print(f"| all (accuracy) | | | {(predicted == truth).mean():.3f} | {len(truth)} |")
        demand = truth == "demand"
        sweep = []
        for m in margins:
            chosen = margin >= m
            hit = (chosen & demand).sum()
            sweep.append(f"{m:.2f}: P {hit / max(chosen.sum(), 1):.3f} R {hit / demand.sum():.3f}")
        print("demand at margin " + "; ".join(sweep))


def _run_hotspot():
    from nlp import Pipeline, PipelineConfig, read_table

    pipeline = Pipeline(PipelineConfig(drafts="none"))
    return pipeline, pipeline.run(read_table(HOTSPOT))


def hottest_drafts(result, n: int = 20, unjudged_to: Path | None = None) -> None:
    """Checks of the ``n`` hottest drafts, and the hand judgements of their 群众诉求 (the items
    not judged yet written to ``unjudged_to``, when given, with the judgements' columns)."""
    import re

    import pandas as pd

    from nlp.summarize import ExtractiveDrafter, spread
    from nlp.summarize.sentences import core_text

    drafter = ExtractiveDrafter()
    table = result.clusters.set_index("cluster", drop=False)
    members = result.opinions[result.opinions["status"] == "ok"].groupby("cluster")
    pasted = facts_differ = quotes = outside = reviewed = 0
    items: dict[tuple[str, str], str] = {}
    for cluster in result.clusters["cluster"].head(n):
        rows = members.get_group(cluster)
        draft = drafter.draft(table.loc[cluster], rows)
        texts = [core_text(str(t)) for t in rows["text"]]
        sentences = {re.sub(r"[\W_]+", "", s) for t in texts for s in split_sentences(t)}
        written = [re.sub(r"[\W_]+", "", getattr(s, "text", s)) for s in draft.sections["建议"]]
        pasted += sum(any(len(s) >= 12 and s in w for s in sentences) for w in written)
        said = re.findall(r"(\d+)(人|个地点|条)", draft.sections["基本情况"].split("。")[0])
        reason = re.findall(r"(\d+)(人|个地点|条)", draft.sections["紧迫性、广泛性、重要性"][1])
        facts_differ += {u: v for v, u in said} != {u: v for v, u in reason}
        # Within the title's place: the opinion is about it, or names the district or city.
        place = draft.facts["scope"]
        ids = rows["id"].astype(str).tolist()
        within = {ids[i] for i in spread(texts).members}
        for quoted in draft.sections["存在问题"]:
            quotes += 1
            outside += bool(place) and quoted.sources[0] not in within
        reviewed += bool(draft.review)
        for demand in draft.sections["群众诉求"]:
            items[(cluster, demand.text)] = draft.title
    print()
    print(f"the {n} hottest drafts of {HOTSPOT.name}: {reviewed} flagged for review")
    print(f"建议 holding a resident's sentence (12+ characters): {pasted}")
    print(f"drafts whose 基本情况 and 广泛性 state different numbers: {facts_differ}")
    print(f"quoted problems outside the title's place: {outside} of {quotes}")
    if not JUDGEMENTS.exists():
        return
    judged = pd.read_csv(JUDGEMENTS, dtype=str, keep_default_na=False)
    print("群众诉求 items judged by hand (benchmarks/data/draft_judgements.csv):")
    print("| version | items | demands | share |")
    print("|---|---|---|---|")
    for version, rows in judged.groupby("version", sort=False):
        demands = (rows["is_demand"] == "1").sum()
        print(f"| {version} | {len(rows)} | {demands} | {demands / max(len(rows), 1):.2f} |")
    after = judged[judged["version"] == "after"]
    known = {(c, i): d for c, i, d in zip(after["cluster"], after["item"], after["is_demand"])}
    today = [known[key] for key in items if key in known]
    demands = today.count("1")
    print(f"| today's drafts | {len(today)} | {demands} | {demands / max(len(today), 1):.2f} |")
    unjudged = [key for key in items if key not in known]
    if unjudged:
        print(
            f"{len(unjudged)} of today's {len(items)} items are not judged yet (the drafts changed)"
        )
        if unjudged_to is not None:
            pd.DataFrame(
                [("after", c, items[(c, i)], i, "", "") for c, i in unjudged],
                columns=judged.columns,
            ).to_csv(unjudged_to, index=False)
            print(f"written to {unjudged_to} for judging")


def draft_speed(pipeline, result, clusters: int = 200) -> tuple[int, float, float]:
    """Seconds to draft the ``clusters`` hottest clusters of the hot-issue set and to write them."""
    import tempfile

    from nlp.outputs.drafts import write_drafts

    start = time.perf_counter()
    drafts = pipeline.draft(result.opinions, result.clusters, f"top {clusters}")
    drafting = time.perf_counter() - start
    with tempfile.TemporaryDirectory() as out:
        start = time.perf_counter()
        write_drafts(drafts, out)
        writing = time.perf_counter() - start
    return len(drafts), drafting, writing


def main() -> None:
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--unjudged",
        type=Path,
        help="write the hottest drafts' 群众诉求 items not judged yet to this CSV",
    )
    args = parser.parse_args()
    sentence_roles_benchmark()
    if HOTSPOT.exists():
        pipeline, result = _run_hotspot()
        hottest_drafts(result, unjudged_to=args.unjudged)
        n, drafting, writing = draft_speed(pipeline, result)
        print()
        print(
            f"drafts for the {n} hottest clusters of {HOTSPOT.name}: {drafting:.1f} s drafting "
            f"(the sentence-role model already fitted), {writing:.1f} s writing "
            ".md + .docx + jsonl"
        )
    else:
        print(f"{HOTSPOT} not found: the hot-issue checks and the speed need the shared data")
    if not DATA.exists():
        print(f"{DATA} not found: the key-sentence table needs the shared evaluation data")
        return
    items = load()
    print()
    print(f"LCSTS part III, human score >= 3: {len(items)} items; character ROUGE F1")
    for unit, label in (("sentence", "one sentence"), ("clause", "two clauses")):
        print()
        print(f"picking {label}")
        print("| method | ROUGE-1 | ROUGE-2 | ROUGE-L |")
        print("|---|---|---|---|")
        for name, values in evaluate(items, unit).items():
            r1, r2, rl = values.mean(axis=0)
            print(f"| {name} | {r1:.3f} | {r2:.3f} | {rl:.3f} |")


if __name__ == "__main__":
    main()
