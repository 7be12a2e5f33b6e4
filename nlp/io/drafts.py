"""Write drafts: drafts/<cluster>.md, drafts/<cluster>.docx (python-docx) and drafts.jsonl."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ..summarize.draft import Draft

__all__ = ["render_markdown", "write_docx", "write_drafts"]


def _lines(value) -> list[str]:
    """Section content as lines, each cited sentence followed by its source ids."""
    if isinstance(value, str):
        return [value]
    out = []
    for item in value:
        if hasattr(item, "sources"):
            out.append(f"{item.text}（来源：{'、'.join(item.sources)}）")
        else:
            out.append(str(item))
    return out


def render_markdown(draft: Draft) -> str:
    """The draft as Markdown."""
    parts = [f"# {draft.title}", "", f"问题ID：{draft.cluster}", ""]
    for name, value in draft.sections.items():
        parts.append(f"## {name}")
        parts.append("")
        lines = _lines(value)
        if name == "附":
            parts.append("来源意见编号：" + "、".join(lines))
        elif isinstance(value, str):
            parts.extend(lines)
        else:
            parts.extend(f"{i}. {line}" for i, line in enumerate(lines, 1)) if lines else parts.append("（无）")
        parts.append("")
    return "\n".join(parts)


def write_docx(draft: Draft, path: str | Path) -> None:
    """The draft as a Word document laid out like a suggestion form."""
    from docx import Document
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.oxml.ns import qn
    from docx.shared import Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "FangSong"
    style.font.size = Pt(14)
    style.element.rPr.rFonts.set(qn("w:eastAsia"), "仿宋")
    heading = doc.add_heading(draft.title, level=0)
    heading.alignment = WD_ALIGN_PARAGRAPH.CENTER
    table = doc.add_table(rows=3, cols=2)
    table.style = "Table Grid"
    for row, (label, value) in enumerate((("问题ID", draft.cluster), ("承办单位", str(draft.sections.get("承办单位", ""))), ("热度指数", f"{draft.scores.get('heat', '')}"))):
        table.cell(row, 0).text = label
        table.cell(row, 1).text = value
    for name, value in draft.sections.items():
        if name == "承办单位":
            continue
        doc.add_heading(name, level=1)
        lines = _lines(value)
        if name == "附":
            doc.add_paragraph("来源意见编号：" + "、".join(lines))
            continue
        if not lines:
            doc.add_paragraph("（无）")
        # Numbers are written out: Word's list numbering would run on from section to section.
        for i, line in enumerate(lines, 1):
            doc.add_paragraph(line if isinstance(value, str) else f"{i}. {line}")
    doc.save(str(path))


def write_drafts(drafts: Sequence[Draft], out_dir: str | Path, docx: bool = True) -> dict[str, Path]:
    """Write every draft into ``out_dir/drafts/`` and all of them into ``out_dir/drafts.jsonl``."""
    out = Path(out_dir)
    folder = out / "drafts"
    folder.mkdir(parents=True, exist_ok=True)
    for draft in drafts:
        (folder / f"{draft.cluster}.md").write_text(render_markdown(draft), encoding="utf-8")
        if docx:
            write_docx(draft, folder / f"{draft.cluster}.docx")
    jsonl = out / "drafts.jsonl"
    tmp = out / ".drafts.jsonl.tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        for draft in drafts:
            f.write(json.dumps(draft.to_dict(), ensure_ascii=False, default=str) + "\n")
    tmp.replace(jsonl)
    return {"drafts": folder, "drafts_jsonl": jsonl}
