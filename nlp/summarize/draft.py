"""Draft 代表建议 from a cluster: every claim points back to the opinions it came from.

:class:`ExtractiveDrafter` is fully offline: 存在问题 and 群众诉求 are sentences taken from the
opinions (quoted, since they are the residents' words, and cited by id), 建议 comes from the
class's template in ``corpora/suggestion_templates.yaml`` and from the demands. Nothing in a draft
is invented: numbers, places and dates come from the opinions or the cluster table.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import pandas as pd

from nlp.classify.taxonomy import ABSTAIN
from nlp.core.errors import ConfigError
from nlp.core.resources import load_yaml
from nlp.summarize.sentences import core_text, key_sentences, split_sentences

__all__ = ["Cited", "Draft", "Drafter", "ExtractiveDrafter", "select_clusters", "SECTIONS"]

SECTIONS = ("基本情况", "存在问题", "群众诉求", "建议", "承办单位", "紧迫性、广泛性、重要性", "附")
_DEMAND = re.compile(r"希望|建议|要求|能不能|能否|可否|请求|恳请|呼吁|盼|请[^问]|尽快|早日")
_NOT_WORD = re.compile(r"[\W_]+")
SAME_SENTENCE = 0.6  # Jaccard similarity of character pairs from which two sentences are merged


@dataclass
class Cited:
    """A sentence of a draft and the ids of the opinions it came from."""

    text: str
    sources: list[str]
    count: int = 1


@dataclass
class Draft:
    """A draft suggestion for one cluster.

    Attributes:
        sections: Section name → text (基本情况, 承办单位, …) or list of cited sentences.
        notes: What happened while drafting (for example why a rewrite was not used).
    """

    cluster: str
    title: str
    sections: dict[str, str | list[Cited] | list[str]]
    sources: list[str]
    scores: dict[str, float | str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict:
        """Plain data for ``drafts.jsonl``."""
        return asdict(self)


class Drafter(Protocol):
    """Turns a cluster and its member opinions into a draft."""

    def draft(self, cluster: Mapping, members: pd.DataFrame) -> Draft: ...


def _key(text: str) -> str:
    return _NOT_WORD.sub("", text)


def _bigrams(text: str) -> frozenset[str]:
    """The character pairs of a sentence, punctuation and spaces left out."""
    key = _key(text)
    return frozenset(key[i : i + 2] for i in range(len(key) - 1))


def _similar(ga: frozenset[str], gb: frozenset[str], threshold: float = SAME_SENTENCE) -> bool:
    """Whether two sentences' character pairs (:func:`_bigrams`) overlap by ``threshold`` (Jaccard)."""
    return bool(ga and gb) and len(ga & gb) / len(ga | gb) >= threshold


def _merge(sentences: list[tuple[str, str, int]]) -> list[tuple[Cited, int]]:
    """Merge near-identical sentences; keep the first wording, all sources, the best position.

    A sentence joins the first kept sentence it is similar to (:func:`_similar`). Only kept
    sentences that share one of its rarest character pairs are compared (prefix filtering: two
    sets whose Jaccard similarity reaches t share a member among the first ``|x| - ⌊t·|x|⌋ + 1``
    of each, in one order of rarity), so a cluster of thousands of opinions is not compared pair
    by pair; the result is the same as comparing every pair. A sentence's character pairs are
    made once to count them and again when it is merged, and only the kept sentences' are held:
    in a cluster of 20,000 opinions every sentence's pairs at once took hundreds of MB."""
    frequency = Counter(pair for text, _, _ in sentences for pair in _bigrams(text))
    merged: list[tuple[Cited, int]] = []
    kept: list[frozenset[str]] = []  # each merged sentence's character pairs
    holding: dict[str, list[int]] = {}  # a pair of the rarest few of a merged sentence -> those sentences
    for text, source, position in sentences:
        grams = _bigrams(text)
        rarest = sorted(grams, key=lambda pair: (frequency[pair], pair))[: len(grams) - math.floor(SAME_SENTENCE * len(grams)) + 1]
        for k in sorted({k for pair in rarest for k in holding.get(pair, ())}):
            if _similar(kept[k], grams):
                cited = merged[k][0]
                if source not in cited.sources:
                    cited.sources.append(source)
                    cited.count += 1
                break
        else:
            for pair in rarest:
                holding.setdefault(pair, []).append(len(merged))
            merged.append((Cited(text, [source]), position))
            kept.append(grams)
    return merged


class ExtractiveDrafter:
    """The offline drafter.

    Args:
        templates: Parsed suggestion templates; the project's file when ``None``.
        problems: Sentences in 存在问题.
        demands: Sentences in 群众诉求.
    """

    def __init__(self, templates: dict | None = None, problems: int = 3, demands: int = 3):
        self.templates = templates if templates is not None else self.load_templates()
        self.problems = problems
        self.demands = demands

    @staticmethod
    def load_templates(path: str | Path | None = None) -> dict:
        """Read a suggestion-template YAML file (the project's when ``None``)."""
        return load_yaml(path, "suggestion_templates.yaml", "the suggestion templates", ("default",))

    def _template(self, level1: str, level2: str) -> dict:
        classes = self.templates.get("classes") or {}
        return classes.get(level2) or classes.get(level1) or self.templates["default"]

    def draft(self, cluster: Mapping, members: pd.DataFrame) -> Draft:
        """Draft a suggestion for ``cluster`` (a row of the clusters table) from its ``members``."""
        ids = [str(i) for i in members["id"]]
        department = cluster.get("department") or "有关部门"
        template = self._template(cluster.get("level1", ""), cluster.get("level2", ""))
        places = [p for p in str(cluster.get("places", "")).split() if p]
        place = places[0] if places else ""
        title = f"关于{'解决' if place else ''}{place}{template['matter']}的建议"
        if template is self.templates["default"]:
            # No template for this class: name the matter by its class, which reads formally.
            topic = cluster.get("level2") or cluster.get("level1") or ""
            title = f"关于{'解决' if place else ''}{place}{topic}问题的建议" if topic and topic != ABSTAIN else title

        problem_sentences, demand_sentences = [], []
        for source, text in zip(ids, members["text"]):
            for position, sentence in enumerate(split_sentences(core_text(str(text)))):
                problem, demand = _split_demand(sentence)
                if problem:
                    problem_sentences.append((problem, source, position))
                if demand:
                    demand_sentences.append((demand, source, position))
        problems = _merge(problem_sentences) or _merge(demand_sentences)
        chosen = key_sentences([c.text for c, _ in problems], self.problems, positions=[p for _, p in problems]) if problems else []
        problem_items = [problems[i][0] for i in sorted(chosen)]
        demand_items = sorted((c for c, _ in _merge(demand_sentences)), key=lambda c: (-c.count, ids.index(c.sources[0])))[: self.demands]

        suggestions = [s.format(department=department) for s in template["suggestions"]]
        for demand in demand_items[:2]:
            suggestions.append(f"针对群众提出的“{demand.text}”（{demand.count}人次），请{department}研究答复并落实。")

        trend = _trend(str(cluster.get("weekly_counts", "")))
        sources = "、".join(s.split(":")[0] for s in str(cluster.get("sources", "")).split())
        period = f"{cluster['first_seen']}至{cluster['last_seen']}，" if cluster.get("first_seen") else ""
        where = f"、{len(places)}个地点（{'、'.join(places[:5])}）" if places else ""
        level = "/".join(x for x in (cluster.get("level1", ""), cluster.get("level2", "")) if x)
        situation = (
            f"{period}{'通过' + sources + '等渠道' if sources else ''}共收到相关意见{cluster['size']}条，"
            f"涉及{cluster['people']}人{where}。该问题属于“{level}”类{trend}。"
        )
        scores = {k: cluster[k] for k in ("urgency", "breadth", "importance", "heat")}
        return Draft(
            cluster=str(cluster["cluster"]),
            title=title,
            sections={
                "基本情况": situation,
                "存在问题": [Cited(f"群众反映：“{c.text}”", c.sources, c.count) for c in problem_items],
                "群众诉求": [Cited(f"“{c.text}”", c.sources, c.count) for c in demand_items],
                "建议": suggestions,
                "承办单位": department,
                "紧迫性、广泛性、重要性": [
                    f"紧迫性 {cluster['urgency']:.2f}：{cluster['urgency_why']}",
                    f"广泛性 {cluster['breadth']:.2f}：{cluster['breadth_why']}",
                    f"重要性 {cluster['importance']:.2f}：{cluster['importance_why']}",
                ],
                "附": ids,
            },
            sources=ids,
            scores=scores,
        )


def _split_demand(sentence: str) -> tuple[str, str]:
    """``(problem, demand)`` parts of a sentence: "路面全是坑，希望尽快修" → ("路面全是坑", "希望尽快修")."""
    cue = _DEMAND.search(sentence)
    if not cue:
        return sentence, ""
    cut = max(sentence.rfind(mark, 0, cue.start()) for mark in "，,；;")
    if cut <= 0:
        return "", sentence
    problem = sentence[:cut].strip("，,；; ")
    return (problem if len(problem) >= 4 else ""), sentence[cut + 1 :].strip()


def _trend(weekly: str) -> str:
    counts = [int(part.rsplit(":", 1)[1]) for part in weekly.split() if ":" in part]
    if len(counts) < 2:
        return ""
    recent, earlier = sum(counts[-4:]), sum(counts[:-4])
    if earlier and recent > earlier:
        return f"，近4个有记录的周新增{recent}条，呈上升趋势"
    return f"，近4个有记录的周新增{recent}条"


def select_clusters(clusters: pd.DataFrame, opinions: pd.DataFrame, selection: str = "auto", urgent: float = 0.6) -> list[str]:
    """Clusters that get a draft.

    Args:
        selection: ``auto`` (at least 2 distinct opinions, or urgency at least ``urgent``),
            ``all``, ``none``, ``top N`` (the N hottest) or cluster ids separated by commas.
    """
    selection = selection.strip()
    if selection == "none" or clusters.empty:
        return []
    if selection == "all":
        return clusters["cluster"].tolist()
    if selection.startswith("top"):
        try:
            return clusters["cluster"].head(int(selection[3:].strip())).tolist()
        except ValueError as e:
            raise ConfigError(f"--drafts {selection!r}: write it as 'top 20'") from e
    if selection == "auto":
        # Row by row, holding each cluster's first text only: a table of every row's key beside
        # the opinions took 1.6 GB more at a million rows.
        first: dict[str, str] = {}
        varied: set[str] = set()  # clusters with at least two distinct opinions
        for status, cluster, text in zip(opinions["status"], opinions["cluster"], opinions["text"]):
            if status != "ok" or cluster in varied:
                continue
            key = _key(str(text))
            if first.setdefault(cluster, key) != key:
                varied.add(cluster)
        keep = clusters["cluster"].isin(varied) | clusters["urgency"].ge(urgent)
        return clusters.loc[keep, "cluster"].tolist()
    wanted = [c.strip() for c in selection.split(",") if c.strip()]
    unknown = sorted(set(wanted) - set(clusters["cluster"]))
    if unknown:
        raise ConfigError(f"--drafts names unknown cluster(s): {', '.join(unknown[:5])}")
    return wanted
