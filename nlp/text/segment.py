"""Word segmentation behind one small interface, with the project's domain dictionary.

:class:`JiebaTokenizer` owns a ``jieba.Tokenizer`` instance (never jieba's global one) and loads
the user dictionary and stop words explicitly. :class:`HanLPTokenizer` is the optional backend.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable
from functools import cached_property, lru_cache
from pathlib import Path
from typing import Protocol

from nlp.core.errors import ConfigError, NotInstalledError
from nlp.core.resources import corpus_path

__all__ = ["Tokenizer", "JiebaTokenizer", "HanLPTokenizer", "load_stopwords", "make_tokenizer"]

_WORDLIKE = re.compile(r"[\w\u4e00-\u9fff]")


class Tokenizer(Protocol):
    """Anything that turns texts into lists of words."""

    def tokenize(self, text: str) -> list[str]: ...

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]: ...


def load_stopwords(path: str | Path | None = None) -> frozenset[str]:
    """Read a stop-word file, one word per line, ``#`` starts a comment."""
    path = Path(path) if path else corpus_path("stopwords.txt")
    words = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            word = line.split("#", 1)[0].strip()
            if word:
                words.add(word)
    return frozenset(words)


class JiebaTokenizer:
    """jieba segmentation with a domain dictionary and stop words.

    Args:
        user_dict: jieba user dictionary (``word [freq] [tag]`` lines); the project's
            ``corpora/domain_dict.txt`` when ``None``.
        stopwords: Words to drop; the project's ``corpora/stopwords.txt`` when ``None``.
        extra_words: More words that must stay whole (for example taxonomy keywords).
        hmm: Let jieba guess unknown words with its HMM.
        remember: Blocks (jieba cuts a text at punctuation and spaces and segments each piece on
            its own) whose words are kept for when they come again, the most recently met; a
            greeting, a form's heading or a clause of a message sent again is segmented once.
    """

    def __init__(
        self,
        user_dict: str | Path | None = None,
        stopwords: Iterable[str] | None = None,
        extra_words: Iterable[str] = (),
        hmm: bool = True,
        remember: int = 100_000,
    ):
        self.user_dict = user_dict
        self.stopwords = stopwords
        self.extra_words = tuple(extra_words)
        self.hmm = hmm
        self.remember = remember

    @cached_property
    def _jieba(self):
        import jieba

        # jieba announces every dictionary build at DEBUG/INFO on its own logger.
        logging.getLogger("jieba").setLevel(logging.WARNING)
        tokenizer = jieba.Tokenizer()
        path = Path(self.user_dict) if self.user_dict else corpus_path("domain_dict.txt")
        try:
            tokenizer.load_userdict(str(path))
        except (OSError, ValueError) as e:
            raise ConfigError(f"cannot load the user dictionary {path}: {e}") from e
        for word in self.extra_words:
            tokenizer.add_word(word)
        return tokenizer

    @cached_property
    def _split(self):
        import jieba

        # jieba's own cut of a text into blocks (runs of Han characters, letters and digits, and
        # what lies between them), each segmented on its own: a text's words are its blocks'.
        return jieba.re_han_default.split

    @cached_property
    def _stopwords(self) -> frozenset[str]:
        return frozenset(self.stopwords) if self.stopwords is not None else load_stopwords()

    @cached_property
    def _block_words(self):
        """A block's words, the last ``remember`` blocks' kept (functools' least-recently-used cache)."""
        stop, jieba = self._stopwords, self._jieba

        def words(block: str) -> tuple[str, ...]:
            # Interned: the words of many blocks share one string each.
            return tuple(
                sys.intern(w)
                for w in jieba.cut(block, HMM=self.hmm)
                if w not in stop and _WORDLIKE.search(w)
            )

        return lru_cache(maxsize=self.remember)(words)

    def tokenize(self, text: str) -> list[str]:
        """Words of ``text`` without stop words, spaces and punctuation."""
        cut = self._block_words
        words: list[str] = []
        for block in self._split(text):
            if block:
                words += cut(block)
        return words

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        """Tokenise each text."""
        return [self.tokenize(t) for t in texts]


class HanLPTokenizer:
    """HanLP segmentation from a model the user already has on disk.

    HanLP's pretrained models are downloaded from the internet by HanLP itself; Minyi never does
    that, so ``model`` must be a local directory.

    Args:
        model: Path of a local HanLP tokenizer model.
        stopwords: Words to drop; the project's list when ``None``.
    """

    def __init__(self, model: str | Path, stopwords: Iterable[str] | None = None):
        self.model = model
        self.stopwords = stopwords

    @cached_property
    def _hanlp(self):
        try:
            import hanlp
        except ImportError as e:
            raise NotInstalledError("The HanLP tokenizer", "hanlp", "hanlp") from e
        if not Path(self.model).is_dir():
            raise ConfigError(f"HanLP model directory {self.model} does not exist")
        return hanlp.load(str(self.model))

    def tokenize(self, text: str) -> list[str]:
        return self.tokenize_many([text])[0]

    def tokenize_many(self, texts: Iterable[str]) -> list[list[str]]:
        stop = frozenset(self.stopwords) if self.stopwords is not None else load_stopwords()
        return [
            [w for w in words if w not in stop and _WORDLIKE.search(w)]
            for words in self._hanlp(list(texts))
        ]


def make_tokenizer(spec: str, extra_words: Iterable[str] = ()) -> Tokenizer:
    """Build a tokenizer from a config string: ``jieba`` or ``hanlp:/path/to/model``."""
    name, _, arg = spec.partition(":")
    if name == "jieba":
        return JiebaTokenizer(user_dict=arg or None, extra_words=extra_words)
    if name == "hanlp":
        if not arg:
            raise ConfigError("the HanLP tokenizer needs a local model: hanlp:/path/to/model")
        return HanLPTokenizer(arg)
    raise ConfigError(f"unknown tokenizer {spec!r}; use 'jieba' or 'hanlp:/path/to/model'")
