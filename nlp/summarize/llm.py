"""Optional rewrite of a draft by a language model behind an OpenAI-compatible HTTP API.

Works with a local server such as vLLM or Ollama. The model gets the draft, the cluster's fact
sheet and its canonical demands (the extractive drafter's, :mod:`nlp.summarize.facts` and
:mod:`nlp.summarize.demands`) and only rewrites the prose (title, 基本情况, 建议); 存在问题 and
群众诉求 stay extractive with their citations. Its output is checked before use: every number and
every place it writes must appear in the source opinions, the fact sheet or the demands,
otherwise the extractive draft is kept and the reason is noted on the draft.
"""

from __future__ import annotations

import json
import logging
import re
import urllib.error
import urllib.request
from collections.abc import Mapping

import pandas as pd

from nlp.summarize.draft import Draft, Drafter, ExtractiveDrafter
from nlp.summarize.facts import FactSheet
from nlp.summarize.markdown import render_markdown

__all__ = ["LLMRewriter", "unsupported_facts"]

log = logging.getLogger(__name__)

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_PLACE = re.compile(r"[\u4e00-\u9fa5A-Za-z0-9]{2,12}?(?:省|市|区|县|镇|乡|村|街道|社区|小区|路)")
_PROMPT = """你是人大代表联络站的指导员助手。请把下面的代表建议草稿改写得更规范、简洁，使用正式书面语。
只能使用草稿中已有的事实：不得添加任何数字、地名、日期、单位或事实。
“建议”应针对下列群众诉求，写成向承办单位提出的简短祈使句，不得照抄群众原话。
只返回一个 JSON 对象，键为 "title"（字符串，以“关于”开头、以“的建议”结尾）、"基本情况"（字符串）、"建议"（字符串数组）。

事实（各部分须一致）：
{facts}

群众诉求（人次）：
{demands}

草稿：
{draft}"""


def unsupported_facts(text: str, sources: str) -> list[str]:
    """Numbers and places in ``text`` that ``sources`` do not contain."""
    missing = [n for n in _NUMBER.findall(text) if n not in sources]
    for place in _PLACE.findall(text):
        # The pattern may take a few characters before the name; any tail of it will do.
        if not any(place[i:] in sources for i in range(len(place) - 2)):
            missing.append(place)
    return list(dict.fromkeys(missing))


class LLMRewriter:
    """A :class:`~nlp.summarize.draft.Drafter` that has the model polish another drafter's output.

    Args:
        base_url: API root, for example ``http://127.0.0.1:8000/v1``.
        model: Model name the server knows.
        api_key: Bearer key, if the server wants one.
        timeout: Seconds to wait for the model.
        base: The drafter whose draft is rewritten; the extractive one when ``None``.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout: float = 60.0,
        base: Drafter | None = None,
    ):
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.api_key = api_key
        self.timeout = timeout
        self.base = base or ExtractiveDrafter()

    def _complete(self, prompt: str) -> str:
        body = json.dumps(
            {
                "model": self.model,
                "messages": [{"role": "user", "content": prompt}],
                "temperature": 0,
            }
        ).encode()
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            f"{self.base_url}/chat/completions", data=body, headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout) as response:
            reply = json.loads(response.read().decode("utf-8"))
        return reply["choices"][0]["message"]["content"]

    def draft(self, cluster: Mapping, members: pd.DataFrame) -> Draft:
        """The base draft, with title, 基本情况 and 建议 rewritten when the rewrite checks out."""
        draft = self.base.draft(cluster, members)
        facts = "\n".join(FactSheet(**draft.facts).lines()) if draft.facts else ""
        demands = "\n".join(f"{d['text']}（{d['count']}）" for d in draft.demands) or "（无）"
        try:
            prompt = _PROMPT.format(facts=facts, demands=demands, draft=render_markdown(draft))
            content = self._complete(prompt)
            content = re.sub(r"^```(?:json)?|```$", "", content.strip(), flags=re.M).strip()
            rewrite = json.loads(content)
            title, situation, suggestions = (
                rewrite["title"],
                rewrite["基本情况"],
                list(rewrite["建议"]),
            )
        except (urllib.error.URLError, OSError, ValueError, KeyError, TypeError) as e:
            draft.notes.append(f"rewrite not used: the model call failed ({type(e).__name__}: {e})")
            log.warning("%s: %s", draft.cluster, draft.notes[-1])
            return draft
        known = " ".join(
            [
                *members["text"].astype(str),
                facts,
                demands,
                draft.title,
                str(draft.sections["基本情况"]),
                *map(str, draft.sections.get("分布", [])),
                *map(str, draft.sections["建议"]),
            ]
        )
        missing = unsupported_facts(" ".join([title, situation, *suggestions]), known)
        if missing:
            draft.notes.append(
                f"rewrite not used: it states facts not in the opinions: {'、'.join(missing[:5])}"
            )
            log.warning("%s: %s", draft.cluster, draft.notes[-1])
            return draft
        draft.title = title
        draft.sections["基本情况"] = situation
        draft.sections["建议"] = suggestions
        draft.notes.append(f"title, 基本情况 and 建议 rewritten by {self.model}")
        return draft
