"""Hostile input files for the security tests, made by hand (not by a library that would refuse
to write them)."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

# Cells that have broken a batch after all its work: control characters and NUL, lone
# surrogates, matplotlib mathtext, a cell past Excel's limit, right-to-left marks, a formula.
HOSTILE = [
    "a\x00b\x01c\x07d\x1b",
    "孤立 \ud800 代理 \udfff",
    r"$\frac{}{}$ 与 $x^{",
    "路" * 40_000,
    "\u202e\u200f右到左\u202c\u200e",
    '=HYPERLINK("http://example.invalid","点我")',
    "\ud83d",
    "\x0b\x0c\r\t",
]
COLUMNS = ["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "来源", "地点", "备注"]

_MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
_RELS = "http://schemas.openxmlformats.org/package/2006/relationships"
_DOC = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
_PARTS = {
    "[Content_Types].xml": (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
        '<Default Extension="rels" '
        'ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
        '<Default Extension="xml" ContentType="application/xml"/>'
        '<Override PartName="/xl/workbook.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/>'
        '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
    ),
    "_rels/.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOC}/officeDocument" Target="xl/workbook.xml"/>'
        "</Relationships>"
    ),
    "xl/workbook.xml": (
        f'<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="{_MAIN}" xmlns:r="{_DOC}">'
        '<sheets><sheet name="意见" sheetId="1" r:id="rId1"/></sheets></workbook>'
    ),
    "xl/_rels/workbook.xml.rels": (
        f'<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="{_RELS}">'
        f'<Relationship Id="rId1" Type="{_DOC}/worksheet" Target="worksheets/sheet1.xml"/>'
        "</Relationships>"
    ),
}


def xlsx(path: Path, cells: dict[str, str], dimension: str) -> Path:
    """A workbook of one sheet named 意见 holding ``cells`` (reference → text) and declaring
    ``dimension``, written as the few XML parts Excel needs."""
    rows: dict[int, list[str]] = {}
    for ref, text in cells.items():
        number = int("".join(ch for ch in ref if ch.isdigit()))
        cell = f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
        rows.setdefault(number, []).append(cell)
    data = "".join(f'<row r="{n}">{"".join(c)}</row>' for n, c in sorted(rows.items()))
    sheet = (
        f'<?xml version="1.0" encoding="UTF-8" standalone="yes"?><worksheet xmlns="{_MAIN}">'
        f'<dimension ref="{dimension}"/><sheetData>{data}</sheetData></worksheet>'
    )
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        for name, text in _PARTS.items():
            z.writestr(name, text)
        z.writestr("xl/worksheets/sheet1.xml", sheet)
    return path


def hostile_rows() -> list[dict[str, str]]:
    """Three rows for each hostile cell, which is in every column of them; every title also
    holds mathtext, so that every cluster's title (drawn in the report's charts) does."""
    rows = []
    for i, bad in enumerate(HOSTILE):
        for j in range(3):
            rows.append(
                {
                    "留言编号": f"{bad}{i}-{j}",
                    "留言用户": bad,
                    "留言主题": rf"$\frac{{}}{{}}$ {bad}暖气",
                    "留言时间": bad if j else f"2024-07-0{i % 9 + 1} 10:00",
                    "留言详情": f"小区暖气不热，屋里才十五度，希望尽快修好{bad}",
                    "来源": bad,
                    "地点": bad,
                    "备注": bad,
                }
            )
    return rows


def hostile_jsonl(path: Path) -> Path:
    """The hostile rows as JSON lines, lone surrogates as the ``\\ud800`` escapes a JSON
    encoder writes (they arrive from the decoder as they are)."""
    lines = [json.dumps(row, ensure_ascii=True) for row in hostile_rows()]
    path.write_text("\n".join(lines) + "\n", encoding="ascii")
    return path


def hostile_csv(path: Path) -> Path:
    """The hostile rows as CSV in UTF-8, lone surrogates written as their three bytes
    (``surrogatepass``), which no UTF-8 decoder accepts."""
    with open(path, "w", encoding="utf-8", errors="surrogatepass", newline="") as f:
        writer = csv.DictWriter(f, COLUMNS)
        writer.writeheader()
        writer.writerows(hostile_rows())
    return path
