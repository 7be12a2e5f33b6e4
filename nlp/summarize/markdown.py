"""A draft as Markdown text: what the Word files, the notebooks and the LLM prompt show."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nlp.summarize.draft import Draft

__all__ = ["render_markdown", "section_lines"]


def section_lines(value) -> list[str]:
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
        lines = section_lines(value)
        if name == "附":
            parts.append("来源意见编号：" + "、".join(lines))
        elif isinstance(value, str):
            parts.extend(lines)
        else:
            parts.extend(
                f"{i}. {line}" for i, line in enumerate(lines, 1)
            ) if lines else parts.append("（无）")
        parts.append("")
    return "\n".join(parts)
