"""Draft 代表建议 from a cluster: every claim points back to the opinions it came from.

:class:`ExtractiveDrafter` is fully offline. It computes the cluster's fact sheet once
(:mod:`nlp.summarize.facts`: opinions, people, places, channels, dates), which the title,
基本情况, 分布 and the reason for 广泛性 all state. Each opinion's sentences get a role
(:mod:`nlp.summarize.roles`): 存在问题 quotes problem sentences chosen to cover the cluster
(:mod:`nlp.summarize.quotes`), 群众诉求 lists the demands merged into a few canonical ones with
counts (:mod:`nlp.summarize.demands`), and 建议 is written from the class's template in
``corpora/suggestion_templates.yaml`` and from those demands, addressed to the responsible body.
A cluster whose opinions are about several places with none holding half of them says so
(分布) and is flagged for review. Nothing in a draft is invented: numbers, places and dates come
from the opinions or the cluster table.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

import numpy as np
import pandas as pd

from nlp.classify.taxonomy import ABSTAIN
from nlp.core.errors import ConfigError
from nlp.core.resources import load_yaml
from nlp.summarize.demands import (
    Demand,
    actionable,
    canonical,
    merge_demands,
    requests,
    suggestion,
    units,
)
from nlp.summarize.facts import FactSheet, fact_sheet
from nlp.summarize.quotes import cover, mask_names
from nlp.summarize.roles import sentence_roles
from nlp.summarize.scope import spread
from nlp.summarize.scoring import ClusterScorer
from nlp.summarize.sentences import core_text, split_sentences

__all__ = ["SECTIONS", "Cited", "Draft", "Drafter", "ExtractiveDrafter", "select_clusters"]

SECTIONS = (
    "核实提示",
    "基本情况",
    "分布",
    "存在问题",
    "群众诉求",
    "建议",
    "承办单位",
    "紧迫性、广泛性、重要性",
    "附",
)
_NOT_WORD = re.compile(r"[\W_]+")
SAME_SENTENCE = 0.6  # Jaccard similarity of character pairs from which two sentences are merged
PASTED = 12  # a 建议 may not hold a resident's sentence this long or longer
SURE = 1.0  # demand score margin from which a sentence that does not open with a request is one
QUOTED = (8, 150)  # lengths of the sentences a draft may quote
QUOTED_FIRST = 6  # a draft quotes problems from the first sentences of an opinion


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
        facts: The cluster's fact sheet (:class:`~nlp.summarize.facts.FactSheet`) as plain data.
        demands: The canonical demands, most opinions first, as plain data.
        review: Why the cluster should be checked (and maybe split) before the draft is used;
            "" when nothing stands against it.
    """

    cluster: str
    title: str
    sections: dict[str, str | list[Cited] | list[str]]
    sources: list[str]
    scores: dict[str, float | str]
    notes: list[str] = field(default_factory=list)
    facts: dict = field(default_factory=dict)
    demands: list[dict] = field(default_factory=list)
    review: str = ""

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
    holding: dict[
        str, list[int]
    ] = {}  # a pair of the rarest few of a merged sentence -> those sentences
    for text, source, position in sentences:
        grams = _bigrams(text)
        rarest = sorted(grams, key=lambda pair: (frequency[pair], pair))[
            : len(grams) - math.floor(SAME_SENTENCE * len(grams)) + 1
        ]
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


@functools.cache
def _scorer() -> ClusterScorer:
    return ClusterScorer()


def _pasted(text: str, sentences: list[str]) -> bool:
    """Whether ``text`` holds one of ``sentences`` (those of :data:`PASTED` characters or more)."""
    key = _key(text)
    return any(len(k) >= PASTED and k in key for k in map(_key, sentences))


class ExtractiveDrafter:
    """The offline drafter.

    Args:
        templates: Parsed suggestion templates; the project's file when ``None``.
        problems: Sentences in 存在问题.
        demands: Canonical demands in 群众诉求.
        scorer: Scores 广泛性 from the fact sheet; the project's scoring config when ``None``.
    """

    def __init__(
        self,
        templates: dict | None = None,
        problems: int = 3,
        demands: int = 4,
        scorer: ClusterScorer | None = None,
    ):
        self.templates = templates if templates is not None else self.load_templates()
        self.problems = problems
        self.demands = demands
        self.scorer = scorer

    @staticmethod
    def load_templates(path: str | Path | None = None) -> dict:
        """Read a suggestion-template YAML file (the project's when ``None``)."""
        return load_yaml(
            path, "suggestion_templates.yaml", "the suggestion templates", ("default",)
        )

    def _template(self, level1: str, level2: str) -> dict:
        classes = self.templates.get("classes") or {}
        return classes.get(level2) or classes.get(level1) or self.templates["default"]

    def _title(self, sheet: FactSheet, template: dict) -> str:
        matter = template["matter"]
        if template is self.templates["default"]:
            # No template for this class: name the matter by its class, which reads formally.
            topic = sheet.level2 or sheet.level1
            matter = f"{topic}问题" if topic and topic != ABSTAIN else matter
        where = sheet.scope + ("多处" if sheet.several else "")
        return f"关于{'解决' if where else ''}{where}{matter}的建议"

    def draft(self, cluster: Mapping, members: pd.DataFrame) -> Draft:
        """Draft a suggestion for ``cluster`` (a row of the clusters table) from its ``members``
        (at least their ``id`` and ``text``)."""
        ids = [str(i) for i in members["id"]]
        texts = [core_text(str(t)) for t in members["text"]]
        # The place staff recorded an opinion at (the export's place column) is what it is about
        # when its words name none ("交了取暖费却不暖和" heard in 松林村).
        recorded = members["place"].astype(str) if "place" in members else [""] * len(texts)
        where = spread([f"{p.strip()}：{t}" if p.strip() else t for p, t in zip(recorded, texts)])
        sheet = fact_sheet(cluster, texts, where)
        template = self._template(sheet.level1, sheet.level2)
        department = sheet.department

        # Every sentence, cut before a request, with the opinion it is in and its position there.
        pieces: list[tuple[str, int, int]] = []
        sentences: list[str] = []
        for k, text in enumerate(texts):
            for position, sentence in enumerate(split_sentences(text)):
                sentences.append(sentence)
                pieces.extend((unit, k, position) for unit in units(sentence) if len(unit) >= 4)
        # Roles are needed for requests (demands) and for what a draft may quote: problems of
        # the opinions within the title's scope, not too long, among the first sentences of
        # each (where an opinion states its problem). The other sentences are left alone.
        inside = set(where.members)
        read = [
            i
            for i, (piece, k, position) in enumerate(pieces)
            if requests(piece)
            or k in inside
            and position < QUOTED_FIRST
            and QUOTED[0] <= len(piece) <= QUOTED[1]
        ]
        model = sentence_roles()
        grams = model.grams([pieces[i][0] for i in read])
        found, margins = model.classify([pieces[i][0] for i in read], grams)
        roles = [""] * len(pieces)
        margin = np.zeros(len(pieces))
        for row, i in enumerate(read):
            roles[i], margin[i] = found[row], margins[row]

        # A demand opens with a request, unless the model is sure of it ("护栏重新装上").
        actions, behind = [], []
        for (piece, k, _), role, sure in zip(pieces, roles, margin):
            if role == "demand" and (requests(piece) or sure >= SURE):
                action = mask_names(canonical(piece))
                if len(_key(action)) >= 2 and actionable(action):
                    actions.append(action)
                    behind.append(ids[k])
        demands = merge_demands(actions, behind)

        row_of = {i: row for row, i in enumerate(read)}
        problem_items = self._problems(pieces, roles, ids, where, grams, row_of)
        demand_items = [
            Cited(f"{d.text}（{d.count}人次）", d.sources, d.count) for d in demands[: self.demands]
        ]
        suggestions = self._suggestions(template, department, demands, sentences)

        scorer = self.scorer or _scorer()
        breadth, breadth_why = scorer.breadth(
            sheet.people, sheet.place_count, len(sheet.channels), sheet.opinions
        )
        urgency, importance = float(cluster["urgency"]), float(cluster["importance"])
        scores = {
            "urgency": urgency,
            "breadth": round(breadth, 3),
            "breadth_why": breadth_why,
            "importance": importance,
            "heat": round(scorer.heat(urgency, breadth, importance), 3),
        }
        review = ""
        if sheet.several:
            review = (
                f"本问题的{sheet.opinions}条意见涉及{sheet.place_count}个地点，没有一个地点超过半数，"
                "可能不是同一问题：请先核实，必要时拆分后再起草。"
            )
        sections: dict[str, str | list] = {}
        if review:
            sections["核实提示"] = review
        sections["基本情况"] = sheet.situation()
        if sheet.place_count >= 2:
            sections["分布"] = sheet.distribution()
        sections.update(
            {
                "存在问题": problem_items,
                "群众诉求": demand_items,
                "建议": suggestions,
                "承办单位": department,
                "紧迫性、广泛性、重要性": [
                    f"紧迫性 {urgency:.2f}：{cluster['urgency_why']}",
                    f"广泛性 {breadth:.2f}：{breadth_why}",
                    f"重要性 {importance:.2f}：{cluster['importance_why']}",
                ],
                "附": ids,
            }
        )
        return Draft(
            cluster=str(cluster["cluster"]),
            title=self._title(sheet, template),
            sections=sections,
            sources=ids,
            scores=scores,
            notes=[review] if review else [],
            facts=sheet.to_dict(),
            demands=[{"text": d.text, "count": d.count, "sources": d.sources} for d in demands],
            review=review,
        )

    def _problems(self, pieces, roles, ids, where, grams, row_of) -> list[Cited]:
        """The problems 存在问题 quotes: problem sentences of the opinions within the title's
        scope, near-identical ones merged, chosen to cover the cluster. ``grams`` are the
        classified pieces' n-grams, ``row_of`` a piece's row in them."""
        inside = set(where.members)
        for wanted in ({"problem"}, {"problem", "background"}, {"problem", "background", "policy"}):
            found = [
                (i, piece, ids[k], position)
                for i, ((piece, k, position), role) in enumerate(zip(pieces, roles))
                if role in wanted and k in inside
            ]
            if found:
                break
        first: dict[tuple[str, str], int] = {}
        for i, piece, source, _ in found:
            first.setdefault((piece, source), i)
        merged = _merge([(piece, source, position) for _, piece, source, position in found])
        if not merged:
            return []
        candidates = [c for c, _ in merged]
        rows = [first[(c.text, c.sources[0])] for c in candidates]
        places = [where.where[pieces[i][1]] for i in rows]
        matrix = grams[[row_of[i] for i in rows]]
        chosen = cover([c.text for c in candidates], places, self.problems, matrix=matrix)
        return [
            Cited(f"群众反映：“{mask_names(c.text)}”", c.sources, c.count)
            for c in (candidates[i] for i in chosen)
        ]

    def _suggestions(self, template: dict, department: str, demands: list[Demand], sentences):
        """建议: the template's clauses, then one clause for each of the commonest demands that
        can be worded as one (short, naming nobody, holding no resident's sentence)."""
        out: list[str | Cited] = [s.format(department=department) for s in template["suggestions"]]
        said = {_key(s) for s in out}
        for demand in demands:
            if len(out) - len(template["suggestions"]) == 2:
                break
            # The demand's name, else the shortest of its wordings that makes a clause.
            worded = (
                suggestion(action, department)
                for action in [demand.text, *sorted(demand.variants, key=len)]
                if len(action) <= 30 and "[" not in action
            )
            text = next((t for t in worded if t is not None), None)
            if text is None or _pasted(text, sentences) or _key(text) in said:
                continue
            out.append(Cited(text, demand.sources, demand.count))
            said.add(_key(text))
        return out


def select_clusters(
    clusters: pd.DataFrame, opinions: pd.DataFrame, selection: str = "auto", urgent: float = 0.6
) -> list[str]:
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
