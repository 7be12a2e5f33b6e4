"""One row per same-issue cluster: size, people, places, dates, keywords, scores.

Pure: takes the scored opinions (and their words and vectors) and returns a DataFrame.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nlp.clustering.titles import plain_title
from nlp.core.ids import format_weekly_counts
from nlp.summarize import ClusterFacts, ClusterScorer
from nlp.summarize.sentences import strip_filler

__all__ = ["summarize_clusters", "hottest_first", "CLUSTER_COLUMNS", "STATUSES", "specific_places"]

CLUSTER_COLUMNS = (
    "cluster",
    "size",
    "people",
    "title",
    "keywords",
    "level1",
    "level2",
    "department",
    "places",
    "first_seen",
    "last_seen",
    "sources",
    "weekly_counts",
    "representatives",
    "urgency",
    "urgency_why",
    "breadth",
    "breadth_why",
    "importance",
    "importance_why",
    "heat",
    "status",
)

# Where a cluster stands in the liaison stations' closed loop; every new cluster starts unverified.
STATUSES = ("待核实", "已核实", "已转办", "已办结", "不予处理")

# Provinces, cities and the country say little about which spot an opinion is about.
_COARSE = re.compile(r"^(?:.{1,3}[省市]|中国|全国|国家|本市|我市|我县|本县)$")


def specific_places(places: str) -> set[str]:
    """The places of an opinion finer than a city (for telling two spots apart)."""
    return {p for p in places.split() if p and not _COARSE.match(p)}


_KEYWORD_ROWS = 1 << 16  # rows whose words are counted at a time (whole clusters)


def _keywords(
    members: dict[str, list[int]], tokens: Mapping[int, Sequence[str]], top: int = 5
) -> dict[str, list[str]]:
    """Class-based TF-IDF (as in BERTopic): a word's share of its cluster's words, times
    ``log(1 + A / f)`` with A the mean number of words per cluster and f the word's count in all;
    the ``top`` words of each cluster of ``members`` (its rows), ties in the words' order.

    ``tokens``: row → its words. Words are counted as arrays of ids, whole clusters at a time
    (a run's :class:`~nlp.pipeline.rows.RowWords` gives them without a list per row)."""
    names = list(members)
    if not names:
        return {}
    sizes = np.fromiter((len(members[c]) for c in names), dtype=np.int64, count=len(names))
    rows = np.fromiter(
        (r for c in names for r in members[c]), dtype=np.int64, count=int(sizes.sum())
    )
    runs, vocabulary = _word_runs(tokens, rows)
    n_words = len(vocabulary)
    # Chunks of whole clusters, of about _KEYWORD_ROWS rows each.
    ends = np.cumsum(sizes)
    cuts = np.unique(np.searchsorted(ends, np.arange(_KEYWORD_ROWS, ends[-1], _KEYWORD_ROWS)))
    bounds = list(zip([0, *(cuts + 1).tolist()], [*(cuts + 1).tolist(), len(names)]))
    bounds = [(lo, hi) for lo, hi in bounds if lo < hi]

    def words_of(lo: int, hi: int) -> tuple[np.ndarray, np.ndarray]:
        first = int(ends[lo - 1]) if lo else 0
        return runs(rows[first : int(ends[hi - 1])])

    overall = np.zeros(n_words, dtype=np.int64)
    for lo, hi in bounds:
        overall += np.bincount(words_of(lo, hi)[0], minlength=n_words)
    mean_words = max(int(overall.sum()) / len(names), 1.0)
    weight = np.log(1 + mean_words / np.maximum(overall, 1))
    kept = np.fromiter((len(w) > 1 for w in vocabulary), dtype=bool, count=n_words)
    rank = np.empty(n_words, dtype=np.int64)
    rank[np.argsort(np.asarray(vocabulary, dtype=object), kind="stable")] = np.arange(n_words)
    out: dict[str, list[str]] = {c: [] for c in names}
    for lo, hi in bounds:
        ids, counts = words_of(lo, hi)
        cluster = np.repeat(np.repeat(np.arange(hi - lo), sizes[lo:hi]), counts)
        total = np.bincount(cluster, minlength=hi - lo)
        pair, tf = np.unique(cluster * n_words + ids, return_counts=True)
        c, w = pair // n_words, pair % n_words
        keep = kept[w]
        c, w, tf = c[keep], w[keep], tf[keep]
        score = -tf / total[c] * weight[w]
        order = np.lexsort((rank[w], score, c))
        c, w = c[order], w[order]
        starts = np.flatnonzero(np.r_[True, c[1:] != c[:-1]])
        place = np.arange(len(c)) - np.repeat(starts, np.diff(np.r_[starts, len(c)]))
        for k, j in zip(c[place < top].tolist(), w[place < top].tolist()):
            out[names[lo + k]].append(vocabulary[j])
    return out


def _word_runs(tokens: Mapping[int, Sequence[str]], rows: np.ndarray):
    """A function giving the word ids of some of ``rows`` one row after another with each row's
    count of words, and the vocabulary the ids index."""
    runs = getattr(tokens, "id_runs", None)
    if runs is not None:
        return runs, tokens.vocabulary
    index: dict[str, int] = {}
    ids_of = {
        row: [index.setdefault(w, len(index)) for w in tokens.get(row, ())] for row in rows.tolist()
    }

    def given(some: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lists = [ids_of[r] for r in some.tolist()]
        counts = np.fromiter(map(len, lists), dtype=np.int64, count=len(lists))
        flat = [j for ids in lists for j in ids]
        return np.asarray(flat, dtype=np.int64), counts

    return given, list(index)


def summarize_clusters(
    opinions: pd.DataFrame,
    tokens: Mapping[int, Sequence[str]],
    vectors: Mapping[int, np.ndarray],
    scorer: ClusterScorer | None = None,
    support: list[float] | None = None,
) -> pd.DataFrame:
    """Describe and score every cluster of ``opinions``, hottest first.

    Args:
        opinions: The pipeline's rows (``cluster`` filled for ``ok`` rows).
        tokens: Row → its words.
        vectors: Row → its unit-length vector (for picking representatives).
        scorer: Cluster scorer; the default config when ``None``.
        support: Likes or votes per row, when the export has them.
    """
    scorer = scorer or ClusterScorer()
    named = [
        "row",
        "id",
        "user",
        "places",
        "place",
        "source",
        "level1",
        "level2",
        "department",
        "title",
        "text",
        "cluster",
        "time",
    ]
    # Only the columns read here: a copy of every column would hold the whole export twice.
    ok = opinions.loc[(opinions["status"] == "ok") & (opinions["cluster"] != ""), named]
    if ok.empty:
        return pd.DataFrame(columns=list(CLUSTER_COLUMNS))
    # Plain lists, one pass: a pandas selection per cluster has a fixed cost, paid once for
    # every cluster, and an export can have as many clusters as rows.
    times = pd.to_datetime(ok["time"].replace("", None), errors="coerce", format="mixed")
    if isinstance(
        times.dtype, pd.DatetimeTZDtype
    ):  # times given with a zone: compared as local times
        times = times.dt.tz_localize(None)
    now = times.max() if times.notna().any() else None
    # Times as numbers, made into timestamps and week names a cluster at a time: a Python object
    # per row for each of them would take many times the memory of the numbers.
    moments = times.to_numpy()
    dated_rows = ~np.isnat(moments)
    calendar = times.dt.isocalendar()
    week_of = np.where(
        dated_rows,
        calendar["year"].fillna(0).to_numpy(dtype=np.int64) * 100
        + calendar["week"].fillna(0).to_numpy(dtype=np.int64),
        -1,
    )
    del calendar
    col = {name: ok[name].tolist() for name in named[:-1]}
    row_ids = [int(r) for r in col["row"]]
    members: dict[str, list[int]] = {}
    for k, cluster in enumerate(col["cluster"]):
        members.setdefault(cluster, []).append(k)
    keywords = _keywords({c: [row_ids[k] for k in ks] for c, ks in members.items()}, tokens)
    rows = []
    for cluster, ks in members.items():
        ids = [row_ids[k] for k in ks]
        users = [col["user"][k] for k in ks if col["user"][k]]
        # In the order they are named (a set's order changes from one process to the next).
        place_counts = Counter(
            p for k in ks for p in dict.fromkeys(col["places"][k].split()) if not _COARSE.match(p)
        )
        place_counts.update(col["place"][k] for k in ks if col["place"][k])
        sources = Counter(col["source"][k] for k in ks if col["source"][k])
        # The commonest (level1, level2); ties go to the first in sorted order.
        levels = Counter((col["level1"][k], col["level2"][k]) for k in ks)
        level1, level2 = max(sorted(levels.items()), key=lambda kv: kv[1])[0]
        department = next(
            col["department"][k]
            for k in ks
            if (col["level1"][k], col["level2"][k]) == (level1, level2)
        )
        # Representatives: the members closest to the cluster's centre; the earlier row first when
        # two are as close to three decimals (the two members of a pair are always equally close,
        # and rounding in the vectors' last digits must not pick between them).
        if len(ids) > 1 and all(r in vectors for r in ids):
            stack = np.stack([vectors[r] for r in ids])
            order = np.argsort(-np.round(stack @ stack.mean(axis=0), 3), kind="stable")
            ranked = [ks[i] for i in order]
        else:
            ranked = ks
        lead = ranked[0]
        words = keywords.get(cluster, [])
        given = col["title"][lead]
        title = plain_title(given) if given else _name(place_counts, words, col["text"][lead])
        dated = [k for k in ks if dated_rows[k]]
        week_counts = Counter(f"{w // 100}-W{w % 100:02d}" for w in week_of[dated].tolist())
        facts = ClusterFacts(
            texts=[col["text"][k] for k in ks],
            times=[pd.Timestamp(moments[k]) for k in ks],  # NaT where a row has no time
            people=len(set(users)) if users else len(ks),
            places=len(place_counts),
            channels=len(sources),
            level1=level1,
            level2=level2,
            support=float(sum(support[r] for r in ids)) if support else 0.0,
        )
        first = pd.Timestamp(moments[dated].min()) if dated else None
        last = pd.Timestamp(moments[dated].max()) if dated else None
        rows.append(
            {
                "cluster": cluster,
                "size": len(ks),
                "people": facts.people,
                "title": title,
                "keywords": " ".join(words),
                "level1": level1,
                "level2": level2,
                "department": department,
                "places": " ".join(p for p, _ in place_counts.most_common(5)),
                "first_seen": first.strftime("%Y-%m-%d") if first is not None else "",
                "last_seen": last.strftime("%Y-%m-%d") if last is not None else "",
                "sources": " ".join(f"{s}:{c}" for s, c in sources.most_common()),
                "weekly_counts": format_weekly_counts(week_counts),
                "representatives": " ".join(str(col["id"][k]) for k in ranked[:3]),
                **scorer.score(facts, now),
                "status": STATUSES[0],
            }
        )
    return hottest_first(pd.DataFrame(rows, columns=list(CLUSTER_COLUMNS)))


def hottest_first(clusters: pd.DataFrame) -> pd.DataFrame:
    """The clusters table in its order: hottest first, then largest, then by id."""
    return clusters.sort_values(
        ["heat", "size", "cluster"], ascending=[False, False, True], kind="stable"
    ).reset_index(drop=True)


_CLAUSE = re.compile(r"[，。！？；：,.!?;:\s]+")


def _name(places: Counter, words: list[str], text: str, width: int = 24) -> str:
    """A short readable name when the opinions have no titles: the place and the first clauses
    of the most central opinion, greetings and closings left out."""
    place = places.most_common(1)[0][0] if places else ""
    clauses = [c for c in _CLAUSE.split(strip_filler(plain_title(text))) if c]
    head = ""
    for clause in clauses:
        head = f"{head}，{clause}" if head else clause
        if len(head) >= 10:
            break
    head = head[:width] or " ".join(words[:3])
    return head if not place or place in head else f"{place}：{head}"
