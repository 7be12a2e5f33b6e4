"""Write drafts: drafts/<cluster>.md, drafts/<cluster>.docx (python-docx) and drafts.jsonl."""

from __future__ import annotations

import functools
import io
import json
import logging
import multiprocessing
import os
import sys
import threading
from collections.abc import Sequence
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import TYPE_CHECKING

from nlp.io.cells import utf8_safe, xml_safe
from nlp.summarize.markdown import render_markdown, section_lines

if TYPE_CHECKING:
    from nlp.summarize.draft import Draft

__all__ = ["DraftWriting", "render_markdown", "write_docx", "write_drafts"]

log = logging.getLogger(__name__)

PARALLEL_FROM = 200  # drafts; for fewer, starting processes costs more than writing them in one
_PER_TASK = 50  # drafts a process writes per task


# The styles a draft uses, those they are based on or linked to, the defaults, and the list
# styles the blank document's numbering names.
_STYLES = {
    "Normal",
    "Title",
    "Title Char",
    "Heading 1",
    "Heading 1 Char",
    "Table Grid",
    "Default Paragraph Font",
    "Normal Table",
    "No List",
    "List Bullet",
    "List Bullet 2",
    "List Bullet 3",
    "List Number",
    "List Number 2",
    "List Number 3",
}


@functools.cache
def _template() -> bytes:
    """python-docx's blank document with only the styles a draft uses, and the draft's font.

    Setting a paragraph's style scans every style in the document, and the blank document
    holds 164: with only these, a draft takes about 40% of the time (14 ms against 35). Two
    parts of the blank document that a draft does not need are left out: the styles again as
    Word 2010 read them (``stylesWithEffects.xml``, 438 KB, compressed anew in every file; later
    Word reads ``styles.xml``) and a thumbnail of an empty page. A draft's file is then about
    13 KB, not 28, and takes about 7 ms, not 10.
    """
    from docx import Document
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    for style in list(doc.styles):
        if style.name not in _STYLES:
            style.delete()
    normal = doc.styles["Normal"]
    normal.font.name = "FangSong"
    normal.font.size = Pt(14)
    normal.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")
    for rId, rel in list(doc.part.rels.items()):
        if rel.reltype.endswith("/stylesWithEffects"):
            doc.part.drop_rel(rId)
    for rId, rel in list(doc.part.package.rels.items()):
        if rel.reltype.endswith("/thumbnail"):
            doc.part.package.rels.pop(rId)
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


_blank = threading.local()  # each thread's blank document, emptied for every draft


def _document():
    """The template opened once a thread (opening it took a sixth of a draft's time) and
    emptied: every element of the body but the section's properties removed."""
    from docx import Document

    if not hasattr(_blank, "doc"):
        _blank.doc = Document(io.BytesIO(_template()))
        _blank.kept = list(_blank.doc.element.body)
    body = _blank.doc.element.body
    for child in list(body):
        if not any(child is kept for kept in _blank.kept):
            body.remove(child)
    return _blank.doc


def write_docx(draft: Draft, path: str | Path) -> None:
    """The draft as a Word document laid out like a suggestion form. Every text goes through
    :func:`nlp.io.cells.xml_safe`: one control character in a cited id would otherwise stop
    the file (python-docx refuses what XML cannot hold)."""
    from docx.enum.text import WD_ALIGN_PARAGRAPH

    doc = _document()
    heading = doc.add_heading(xml_safe(str(draft.title)), level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = doc.add_table(rows=3, cols=2)
    table.style = "Table Grid"
    facts = (
        ("问题ID", str(draft.cluster)),
        ("承办单位", str(draft.sections.get("承办单位", ""))),
        ("热度指数", f"{draft.scores.get('heat', '')}"),
    )
    for row, (label, value) in enumerate(facts):
        table.cell(row, 0).text = label
        table.cell(row, 1).text = xml_safe(value)
    for name, value in draft.sections.items():
        if name == "承办单位":
            continue
        doc.add_heading(xml_safe(str(name)), level=1)
        lines = [xml_safe(line) for line in section_lines(value)]
        if name == "附":
            doc.add_paragraph("来源意见编号：" + "、".join(lines))
            continue
        if not lines:
            doc.add_paragraph("（无）")
        # Numbers are written out: Word's list numbering would run on from section to section.
        for i, line in enumerate(lines, 1):
            doc.add_paragraph(line if isinstance(value, str) else f"{i}. {line}")
    doc.save(str(path))


def _write_docx_many(jobs: list[tuple[Draft, Path]]) -> None:
    for draft, path in jobs:
        write_docx(draft, path)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _can_spawn() -> bool:
    """Whether a fresh process can start from this one: it runs ``__main__`` again, which a
    script read from standard input (``python -``) does not have as a file."""
    path = getattr(sys.modules.get("__main__"), "__file__", None)
    return path is None or os.path.exists(path)


class DraftWriting:
    """Writing the drafts, begun: from ``PARALLEL_FROM`` drafts on, ``workers`` processes (the
    cores this process may use when ``None``) start on the Word files at once, so the caller can
    write its other files meanwhile; :meth:`finish` writes the rest and waits for them.
    python-docx takes about 6 ms a file, and a million generated rows make 11,500 drafts."""

    def __init__(
        self,
        drafts: Sequence[Draft],
        out_dir: str | Path,
        docx: bool = True,
        workers: int | None = None,
    ):
        self.drafts = drafts
        self.out = Path(out_dir)
        self.folder = self.out / "drafts"
        self.folder.mkdir(parents=True, exist_ok=True)
        self.jobs = (
            [(draft, self.folder / f"{draft.cluster}.docx") for draft in drafts] if docx else []
        )
        self._pool: ProcessPoolExecutor | None = None
        self._tasks = []
        workers = min(workers or _cores(), -(-len(self.jobs) // _PER_TASK))
        if workers > 1 and len(self.jobs) >= PARALLEL_FROM and _can_spawn():
            # Fresh processes ("spawn"): a fork of a process that may run threads can hang,
            # and one of a process holding a whole run's rows copies its pages as touched.
            self._pool = ProcessPoolExecutor(
                workers, mp_context=multiprocessing.get_context("spawn")
            )
            self._tasks = [
                self._pool.submit(_write_docx_many, self.jobs[lo : lo + _PER_TASK])
                for lo in range(0, len(self.jobs), _PER_TASK)
            ]

    def finish(self) -> dict[str, Path]:
        """Write the Markdown files and ``drafts.jsonl``, and the Word files unless workers are
        writing them (then wait for those, and write them here if a worker failed)."""
        for draft in self.drafts:
            markdown = utf8_safe(render_markdown(draft))
            (self.folder / f"{draft.cluster}.md").write_text(markdown, encoding="utf-8")
        if self._pool is not None:
            try:
                for task in self._tasks:
                    task.result()
            except BrokenProcessPool as e:
                log.warning(
                    "writing the Word drafts in this process: a worker process failed (%s)", e
                )
                _write_docx_many(self.jobs)
            finally:
                self.cancel()
        else:
            _write_docx_many(self.jobs)
        jsonl = self.out / "drafts.jsonl"
        tmp = self.out / ".drafts.jsonl.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            for draft in self.drafts:
                line = json.dumps(draft.to_dict(), ensure_ascii=False, default=str)
                f.write(utf8_safe(line) + "\n")
        tmp.replace(jsonl)
        return {"drafts": self.folder, "drafts_jsonl": jsonl}

    def cancel(self) -> None:
        """Stop the workers (what they have not begun is not written)."""
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None


def write_drafts(
    drafts: Sequence[Draft], out_dir: str | Path, docx: bool = True, workers: int | None = None
) -> dict[str, Path]:
    """Write every draft into ``out_dir/drafts/`` and all of them into ``out_dir/drafts.jsonl``
    (the Word files by worker processes from ``PARALLEL_FROM`` drafts on, see :class:`DraftWriting`)."""
    return DraftWriting(drafts, out_dir, docx, workers).finish()
