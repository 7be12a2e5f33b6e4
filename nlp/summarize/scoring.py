"""Scores of a same-issue cluster: 紧迫性 (urgency), 广泛性 (breadth), 重要性 (importance), heat.

Each score is in [0, 1] and comes with a one-line explanation in words. Weights and word lists
live in ``corpora/scoring.yaml``; pass your own file to change them.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from nlp.core.resources import load_yaml

_SENTENCE = re.compile(r"[。！？!?；;\n]+")

__all__ = ["ClusterFacts", "ClusterScorer"]


@dataclass
class ClusterFacts:
    """What scoring needs to know about one cluster."""

    texts: list[str]
    times: list[pd.Timestamp | None]
    people: int
    places: int
    channels: int
    level1: str
    level2: str
    support: float = 0.0


def _saturate(value: float, scale: float) -> float:
    return 1.0 - math.exp(-value / scale) if scale > 0 else 0.0


class ClusterScorer:
    """Score clusters with the weights of a scoring config.

    Args:
        config: The parsed scoring YAML; the project's ``corpora/scoring.yaml`` when ``None``.
    """

    def __init__(self, config: dict | None = None):
        self.config = config if config is not None else self.load_config()
        # Most texts hold none of a word list's words: one pattern of them all says so at once.
        urgency = self.config["urgency"]
        self._any = {
            name: re.compile("|".join(map(re.escape, urgency[name])))
            for name in ("risk_words", "waiting_words", "vulnerable_words", "harm_words")
            if urgency.get(name)
        }

    def _first(self, name: str, text: str) -> str | None:
        """The first word of the urgency config's list ``name``, in its order, found in
        ``text``."""
        pattern = self._any.get(name)
        if pattern is None or not pattern.search(text):
            return None
        return next(w for w in self.config["urgency"][name] if w in text)

    @staticmethod
    def load_config(path: str | Path | None = None) -> dict:
        """Read a scoring YAML file (the project's ``corpora/scoring.yaml`` when ``None``)."""
        return load_yaml(
            path,
            "scoring.yaml",
            "the scoring config",
            ("heat_weights", "urgency", "breadth", "importance"),
        )

    def score(self, facts: ClusterFacts, now: pd.Timestamp | None = None) -> dict[str, float | str]:
        """Scores and explanations of one cluster; ``now`` is the end of the period (latest time)."""
        urgency, urgency_why = self._urgency(facts, now)
        breadth, breadth_why = self._breadth(facts)
        importance, importance_why = self._importance(facts)
        heat = self.heat(urgency, breadth, importance)
        return {
            "urgency": round(urgency, 3),
            "urgency_why": urgency_why,
            "breadth": round(breadth, 3),
            "breadth_why": breadth_why,
            "importance": round(importance, 3),
            "importance_why": importance_why,
            "heat": round(heat, 3),
        }

    def _urgency(self, facts: ClusterFacts, now) -> tuple[float, str]:
        cfg = self.config["urgency"]
        n = max(len(facts.texts), 1)
        risk_hits = [self._risk(t) for t in facts.texts]
        wait_hits = [self._first("waiting_words", t) for t in facts.texts]
        risk = sum(h is not None for h in risk_hits) / n
        waiting = sum(h is not None for h in wait_hits) / n
        times = [t for t in facts.times if t is not None and not pd.isna(t)]
        growth, growth_words = 0.0, "无日期"
        if times and now is not None:
            since = now - pd.Timedelta(weeks=cfg["recent_weeks"])
            recent = sum(t >= since for t in times)
            growth = recent / len(times)
            growth_words = f"近{cfg['recent_weeks']}周{recent}条（共{len(times)}条）"
        w = cfg["weights"]
        value = (w["risk"] * risk + w["waiting"] * waiting + w["growth"] * growth) / sum(w.values())
        words = sorted({h for h in risk_hits if h})[:3]
        waits = sorted({h for h in wait_hits if h})[:2]
        why = (
            f"{n}条中{sum(h is not None for h in risk_hits)}条涉及安全或健康风险"
            + (f"（{'、'.join(words)}）" if words else "")
            + f"，{sum(h is not None for h in wait_hits)}条反映长期未解决"
            + (f"（{'、'.join(waits)}）" if waits else "")
            + f"，{growth_words}"
        )
        return value, why

    def _risk(self, text: str) -> str | None:
        """What in ``text`` says someone's safety or health is at risk: a risk word, or a person
        at risk and a harm in one sentence (``孩子+落水``); ``None`` when nothing does."""
        found = self._first("risk_words", text)
        if found is not None:
            return found
        if self._first("vulnerable_words", text) is None:
            return None
        for sentence in _SENTENCE.split(text):
            person = self._first("vulnerable_words", sentence)
            harm = self._first("harm_words", sentence) if person else None
            if harm is not None:
                return f"{person}+{harm}"
        return None

    def heat(self, urgency: float, breadth: float, importance: float) -> float:
        """Heat of a cluster from its three scores (the config's ``heat_weights``)."""
        w = self.config["heat_weights"]
        total = w["urgency"] * urgency + w["breadth"] * breadth + w["importance"] * importance
        return total / sum(w.values())

    def breadth(self, people: int, places: int, channels: int, opinions: int) -> tuple[float, str]:
        """广泛性 from its four counts, and the reason in words; places and channels are said
        only when there are some (an export without a channel column has none)."""
        cfg = self.config["breadth"]
        values = {"people": people, "places": places, "channels": channels, "opinions": opinions}
        total_weight = sum(cfg[k]["weight"] for k in values)
        value = (
            sum(cfg[k]["weight"] * _saturate(v, cfg[k]["scale"]) for k, v in values.items())
            / total_weight
        )
        parts = [f"{people}人"]
        parts += [f"{places}个地点"] if places else []
        parts += [f"{channels}个渠道"] if channels else []
        return value, "、".join([*parts, f"{opinions}条意见"])

    def _breadth(self, facts: ClusterFacts) -> tuple[float, str]:
        return self.breadth(facts.people, facts.places, facts.channels, len(facts.texts))

    def _importance(self, facts: ClusterFacts) -> tuple[float, str]:
        cfg = self.config["importance"]
        table = cfg["livelihood"]
        livelihood = table.get(facts.level2, table.get(facts.level1, cfg["default_livelihood"]))
        support = _saturate(facts.support, cfg["support_scale"])
        w = cfg["weights"]
        value = (w["livelihood"] * livelihood + w["support"] * support) / sum(w.values())
        name = facts.level2 or facts.level1 or "未分类"
        why = f"“{name}”民生权重{livelihood:.2f}，点赞或附议{facts.support:.0f}次"
        return value, why
