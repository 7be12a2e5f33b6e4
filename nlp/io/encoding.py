"""Decode the bytes of a text file: UTF-8 (with or without BOM), GBK/GB18030, Big5, or a mix."""

from __future__ import annotations

import codecs
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nlp.core.errors import InputError

__all__ = ["Decoded", "decode_bytes", "stream_codec"]

_SAMPLE = 256 * 1024
_CANDIDATES = ["gb18030", "big5", "utf_16"]
_CONTROL_BYTES = frozenset(b for b in range(32) if b not in (9, 10, 13))


@dataclass
class Decoded:
    """Text of a file and how it was decoded.

    Attributes:
        text: The decoded text; undecodable bytes became U+FFFD.
        encoding: What was used, in words (``utf-8``, ``utf-8 with BOM``, ``gb18030`` ...).
        bad_lines: 0-based physical lines that held undecodable bytes.
    """

    text: str
    encoding: str
    bad_lines: list[int]


def decode_bytes(data: bytes, encoding: str | None = None) -> Decoded:
    """Decode ``data``, detecting the encoding unless ``encoding`` is given.

    Raises:
        InputError: The bytes look like a binary file, or ``encoding`` is unknown.
    """
    whole: dict[
        str, str
    ] = {}  # what a strict attempt decoded, kept so that it is not decoded again

    def decodes(codec: str) -> bool:
        try:
            whole[codec] = data.decode(codec)
        except UnicodeDecodeError:
            return False
        return True

    choice = _choose(data[:_SAMPLE], encoding, decodes)
    if choice is None:
        return _decode_mixed(data, _guess(data[:_SAMPLE]) or "gb18030")
    codec, errors, label = choice
    if errors == "strict":
        return Decoded(whole[codec], label, [])
    return _with_bad_lines(data.decode(codec, errors="replace"), label)


def stream_codec(path: Path, encoding: str | None = None) -> tuple[str, str, str] | None:
    """How to decode the file at ``path`` as a stream, without holding its bytes: ``(codec,
    errors, label)``, the choice :func:`decode_bytes` makes for the whole file. ``None`` when no
    one encoding decodes every line (the file mixes encodings: decode it whole with
    :func:`decode_bytes`, line by line).

    Raises:
        InputError: As :func:`decode_bytes`.
    """
    with open(path, "rb") as f:
        head = f.read(_SAMPLE)
    return _choose(head, encoding, lambda codec: _decodes(path, codec))


def _choose(
    head: bytes, encoding: str | None, decodes: Callable[[str], bool]
) -> tuple[str, str, str] | None:
    """``(codec, errors, label)`` for a file that starts with ``head``: the given encoding, a
    byte-order mark, else the first of UTF-8 and the guessed encoding that ``decodes`` the whole
    file strictly; ``None`` when neither does."""
    if encoding:
        try:
            codecs.lookup(encoding)
        except LookupError as e:
            raise InputError(f"unknown encoding {encoding!r}; try utf-8, gb18030 or big5") from e
        return encoding, "replace", encoding
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig", "replace", "utf-8 with BOM"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16", "replace", "utf-16"
    _refuse_binary(head)
    if decodes("utf-8"):
        return "utf-8", "strict", "utf-8"
    guess = _guess(head)
    if guess and decodes(guess):
        return guess, "strict", guess.replace("_", "-")
    return None


def _decodes(path: Path, codec: str, piece: int = 1 << 20) -> bool:
    """Whether all of the file decodes with ``codec`` (read a piece at a time)."""
    decoder = codecs.getincrementaldecoder(codec)()
    try:
        with open(path, "rb") as f:
            while data := f.read(piece):
                decoder.decode(data)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def _refuse_binary(data: bytes) -> None:
    head = data[:8192]
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        raise InputError(
            "this file is a ZIP archive (an XLSX workbook?), not text; give it the .xlsx extension"
        )
    # Text in UTF-8, GBK or Big5 has no control bytes besides tab, newline and carriage return.
    # A few lines with stray bytes are those rows' problem; a file where most lines hold
    # them is not text at all.
    lines = [line for line in data[:65536].split(b"\n") if line.strip()]
    junk = sum(1 for line in lines if any(b in _CONTROL_BYTES for b in line))
    if lines and junk * 2 > len(lines):
        raise InputError(
            "this file looks binary (most lines hold NUL or control bytes), not a text export"
        )


def _guess(sample: bytes) -> str | None:
    from charset_normalizer import from_bytes

    best = from_bytes(sample, cp_isolation=_CANDIDATES).best()
    return best.encoding if best else None


def _decode_mixed(data: bytes, fallback: str) -> Decoded:
    """Decode line by line: UTF-8 where it works, else ``fallback``, else with replacement."""
    lines, bad, used = [], [], set()
    for i, raw in enumerate(data.split(b"\n")):
        for enc in ("utf-8", fallback):
            try:
                lines.append(raw.decode(enc))
                used.add(enc)
                break
            except UnicodeDecodeError:
                continue
        else:
            lines.append(raw.decode("utf-8", errors="replace"))
            bad.append(i)
    label = " + ".join(sorted(used)) or "unknown"
    if len(used) > 1:
        label = f"mixed ({label})"
    return Decoded("\n".join(lines), label, bad)


def _with_bad_lines(text: str, label: str) -> Decoded:
    bad = (
        [i for i, line in enumerate(text.split("\n")) if "\ufffd" in line]
        if "\ufffd" in text
        else []
    )
    return Decoded(text, label, bad)
