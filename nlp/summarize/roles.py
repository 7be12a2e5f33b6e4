"""The role of a sentence in an opinion: problem, demand, background, policy, emotion or greeting.

A draft's 群众诉求 must be what residents ask for, not the rules they quote, their anger or their
closing request for a reply. :class:`SentenceRoles` tells these apart: character n-grams of the
sentence (with its start and end marked, where the cue words sit) and a few strong cues (a request
verb at the start, 应当 / 不得 / 除外 of a rule, a request only for a reply) feed a linear SVM.
It is fitted from the project's labeled sentences (``corpora/sentence_roles/*.csv``) on first use,
about a second, and kept for the process (:func:`sentence_roles`).

A sentence counts as a demand only when the demand score beats every other role by
``demand_margin``: a wrong demand in a draft costs more than a missed one, and the margin is chosen
on held-out sentences for precision (``benchmarks/summarize.py`` prints the measurements).
"""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence

import numpy as np
import pandas as pd

from nlp.core.errors import NotFittedError
from nlp.core.resources import corpus_path

__all__ = ["ROLES", "ROLE_FILES", "SentenceRoles", "read_labeled", "sentence_roles"]

ROLES = ("problem", "demand", "background", "policy", "emotion", "greeting")
ROLE_FILES = ("board", "fragments", "hard")  # corpora/sentence_roles/<name>.csv

_REQUEST = (
    r"(?:恳请|请求|敬请|烦请|特请|请|希望|望|要求|强烈要求|建议|呼吁|盼望|期盼|盼|能否|能不能|可否"
    r"|是否可以|是否能|可不可以|麻烦|让|把|给)"
)
_CUES = (
    # A request verb opening the sentence, after a list number and the speaker.
    re.compile(
        r"^(?:[一二三四五六七八九十\d]+[、.．)）]\s*)?(?:我们|我|俺们|俺|大家|业主们|居民们|村民们)?"
        r"(?:强烈|真诚|迫切|诚恳|再次)?" + _REQUEST
    ),
    # Addressed to a body.
    re.compile(
        r"^(?:恳请|请求|请|希望|要求|建议|麻烦)?(?:有关|相关|各级|上级)?"
        r"(?:部门|政府|领导|单位|机关|局|委|办|公司|物业|街道|社区|村委会?)"
    ),
    re.compile(r"应当|应该|不得|禁止|严禁|必须|须|除外|不准|不能"),  # the words of a rule
    re.compile(
        r"《[^》]+》|条例|规定|办法|通知|文件|政策|法[律规]?|第[一二三四五六七八九十百\d]+条"
    ),
    re.compile(r"听说|据说|说过|讲过|写着|上头|上面|文件|政策|规定上|按照|根据|依据"),  # hearsay
    re.compile(
        r"答复|回复|回音|回信|重视|关注|督办|过问|帮忙|帮帮|为盼|为谢|谢谢|感谢|麻烦您|百忙"
    ),
    re.compile(r"[？?]|吗$|呢$|难道|凭什么|为什么|谁来"),
    re.compile(r"[！!]"),
    re.compile(r"\d{4}年|去年|前年|当时|曾|之前|以前|原来|已经"),
    re.compile(r"^[^，,]{1,12}?(?:要求|让|叫)(?!.*(?:请|希望))"),  # someone else requires
    re.compile(
        r"尽快|尽早|立即|马上|及时|早日|依法|责令|督促|查处|整改|制止|取缔|退还|恢复|安装|修|拆|清理|开通"
        r"|增设|公开|补发|发放|办理|纳入|搬迁|更换|协调|解决|落实"
    ),
)


def read_labeled(names: Sequence[str] = ROLE_FILES) -> pd.DataFrame:
    """The project's labeled sentences: columns ``role``, ``sentence`` and ``file`` (its name)."""
    frames = []
    for name in names:
        try:
            path = corpus_path(f"sentence_roles/{name}.csv")
        except FileNotFoundError:
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False)
        frames.append(frame.assign(file=name))
    return pd.concat(frames, ignore_index=True)


def _cue_matrix(sentences: Sequence[str]):
    from scipy.sparse import csr_matrix

    rows = [
        [1.0 if cue.search(s) else 0.0 for cue in _CUES] + [min(len(s), 80) / 80] for s in sentences
    ]
    return csr_matrix(np.asarray(rows, dtype=np.float64).reshape(len(rows), len(_CUES) + 1))


class SentenceRoles:
    """Sentence-role classifier (see the module's description).

    Args:
        C: Inverse regularisation of the linear SVM.
        ngram_range: Character n-gram lengths.
        cue_weight: Weight of the cue features beside the n-grams.
        demand_margin: How far the demand score must beat the next role for a demand.
    """

    def __init__(
        self,
        C: float = 2.0,
        ngram_range: tuple[int, int] = (1, 3),
        cue_weight: float = 0.5,
        demand_margin: float = 0.03,
    ):
        self.C = C
        self.ngram_range = ngram_range
        self.cue_weight = cue_weight
        self.demand_margin = demand_margin

    def grams(self, sentences: Sequence[str]):
        """The sentences' character n-grams as the model reads them (TF-IDF rows of unit length):
        pass them to :meth:`classify`, and reuse them to compare the sentences."""
        self._check()
        if not len(sentences):
            from scipy.sparse import csr_matrix

            return csr_matrix((0, len(self.vectorizer_.vocabulary_)))
        return self.vectorizer_.transform(["^" + s.strip() + "$" for s in sentences])

    def _features(self, sentences: Sequence[str], grams=None):
        from scipy.sparse import hstack

        grams = self.grams(sentences) if grams is None else grams
        return hstack([grams, _cue_matrix(sentences) * self.cue_weight]).tocsr()

    def _check(self) -> None:
        if not hasattr(self, "vectorizer_"):
            raise NotFittedError("SentenceRoles is not fitted: call fit(sentences, roles) first")

    def fit(self, sentences: Sequence[str], roles: Sequence[str]) -> SentenceRoles:
        """Fit on labeled sentences; every role of :data:`ROLES` must occur."""
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.svm import LinearSVC

        unknown = sorted(set(roles) - set(ROLES))
        if unknown:
            raise ValueError(f"unknown sentence roles {unknown}: use {', '.join(ROLES)}")
        self.vectorizer_ = TfidfVectorizer(
            analyzer="char", ngram_range=self.ngram_range, sublinear_tf=True
        )
        sentences = list(sentences)
        grams = self.vectorizer_.fit_transform(["^" + s.strip() + "$" for s in sentences])
        features = self._features(sentences, grams)
        self.model_ = LinearSVC(C=self.C, random_state=0).fit(features, list(roles))
        self.classes_ = list(self.model_.classes_)
        return self

    def decision(self, sentences: Sequence[str], grams=None) -> np.ndarray:
        """Scores, one column per role of ``classes_``; ``grams`` are the sentences'
        :meth:`grams` when already made."""
        self._check()
        if not len(sentences):
            return np.zeros((0, len(self.classes_)))
        return self.model_.decision_function(self._features(list(sentences), grams))

    def demand_scores(self, sentences: Sequence[str]) -> np.ndarray:
        """How far each sentence's demand score beats its best other role's."""
        return self.classify(sentences)[1]

    def predict(self, sentences: Sequence[str]) -> list[str]:
        """The role of each sentence; a demand only by ``demand_margin`` (else the next role)."""
        return self.classify(sentences)[0]

    def classify(self, sentences: Sequence[str], grams=None) -> tuple[list[str], np.ndarray]:
        """Each sentence's role (:meth:`predict`) and demand margin (:meth:`demand_scores`)."""
        scores = self.decision(sentences, grams)
        if not len(scores):
            return [], np.zeros(0)
        k = self.classes_.index("demand")
        others = scores.copy()
        others[:, k] = -np.inf
        margin = scores[:, k] - others.max(axis=1)
        best = np.where(margin >= self.demand_margin, k, others.argmax(axis=1))
        return [self.classes_[i] for i in best], margin


@functools.cache
def sentence_roles() -> SentenceRoles:
    """The classifier fitted on the project's labeled sentences, once a process."""
    labeled = read_labeled()
    return SentenceRoles().fit(labeled["sentence"].tolist(), labeled["role"].tolist())
