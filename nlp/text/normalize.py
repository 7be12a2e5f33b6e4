"""Text normalisation: width, whitespace, traditional → simplified, emoji, control characters.

:class:`Normalizer` is pure: it takes strings and returns strings. The original text is kept by the
pipeline, not here.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cached_property

__all__ = ["Normalizer", "binary_share", "without_lost_marks"]

# Full-width ASCII (U+FF01–U+FF5E) → half-width, except the punctuation Chinese text writes
# full-width on purpose; the ideographic space becomes a plain space.
_KEEP_FULLWIDTH = set("，！？：；（）")
_WIDTH_TABLE = {
    code: code - 0xFEE0 for code in range(0xFF01, 0xFF5F) if chr(code) not in _KEEP_FULLWIDTH
}
_WIDTH_TABLE[0x3000] = 0x20

# Characters that can only be emoji or pictographs; used as a cheap test before calling `emoji`.
_MAYBE_EMOJI = re.compile(
    "[\u2190-\u21ff\u2300-\u27bf\u2b00-\u2bff\ufe0f\u200d\U0001f000-\U0001faff]"
)
_SPACE = re.compile(r"\s+")
_CJK = "\u3000-\u303f\u4e00-\u9fff\uff00-\uffef"
_SPACE_BETWEEN_CJK = re.compile(f"(?<=[{_CJK}]) (?=[{_CJK}])")


def _is_junk(ch: str) -> bool:
    # Cc: control, Cf: format (zero-width), Co: private use, Cs: surrogates, Cn: unassigned.
    return unicodedata.category(ch) in {"Cc", "Cf", "Co", "Cs", "Cn"} and not ch.isspace()


def binary_share(text: str) -> float:
    """Share of characters in ``text`` that are control, private-use or replacement characters.

    A cell made of binary bytes decodes to mostly such characters; real opinions have almost none.
    """
    if not text:
        return 0.0
    bad = sum(1 for ch in text if ch == "\ufffd" or _is_junk(ch))
    return bad / len(text)


def without_lost_marks(text: str) -> str:
    """A normalised ``text`` with each ASCII "?" read as a character that an export could not
    encode (a GBK copy of a UTF-8 file writes one for each no-break space, emoji or symbol
    outside GBK): as whitespace, which the normaliser collapses, and drops between Chinese
    characters. For what a model reads, not for the text shown: Chinese writes its own question
    mark full-width (？), and a half-width one says nothing of an opinion's class."""
    if "?" not in text:
        return text
    text = _SPACE.sub(" ", text.replace("?", " ")).strip()
    return _SPACE_BETWEEN_CJK.sub("", text)


class Normalizer:
    """Normalise opinion text for matching, classification and export.

    Args:
        to_simplified: Convert traditional to simplified characters with OpenCC.
        remove_emoji: Drop emoji and pictographs.
        max_chars: Cut longer texts to this many characters (``0`` keeps everything).
    """

    def __init__(
        self, to_simplified: bool = True, remove_emoji: bool = True, max_chars: int = 5000
    ):
        self.to_simplified = to_simplified
        self.remove_emoji = remove_emoji
        self.max_chars = max_chars

    @cached_property
    def _opencc(self):
        import opencc

        return opencc.OpenCC("t2s.json")

    @cached_property
    def _emoji(self):
        import emoji

        return emoji

    def normalize(self, text: str) -> str:
        """Return the normalised form of one text."""
        if not text:
            return ""
        if self.max_chars and len(text) > self.max_chars:
            text = text[: self.max_chars]
        text = text.translate(_WIDTH_TABLE)
        text = unicodedata.normalize("NFC", text)
        if any(_is_junk(ch) for ch in text):
            text = "".join(" " if _is_junk(ch) else ch for ch in text)
        text = text.replace("\ufffd", " ")
        if self.remove_emoji and _MAYBE_EMOJI.search(text):
            text = self._emoji.replace_emoji(text, " ")
            text = _MAYBE_EMOJI.sub(" ", text)
        if self.to_simplified:
            text = self._opencc.convert(text)
        text = _SPACE.sub(" ", text).strip()
        return _SPACE_BETWEEN_CJK.sub("", text)

    def normalize_many(self, texts: list[str]) -> list[str]:
        """Normalise a list of texts."""
        return [self.normalize(t) for t in texts]
