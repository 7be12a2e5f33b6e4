"""One odd cell never fails a batch: control characters, NUL, lone surrogates, mathtext, a
40,000-character cell and right-to-left marks in every column go through every output."""

import json

import pandas as pd
import pytest
from hostile_files import HOSTILE, hostile_csv, hostile_jsonl

ROWS = 3 * len(HOSTILE)
OUTPUTS = {"opinions.csv", "clusters.csv", "opinions.xlsx", "hot_issues.xlsx", "opinions.parquet"}
OUTPUTS |= {"summary.json", "report.html", "drafts.jsonl", "drafts"}


@pytest.mark.parametrize("make", [hostile_jsonl, hostile_csv], ids=["jsonl", "csv"])
def test_hostile_cells_in_every_column_come_out_of_every_output(tmp_path, minyi, make):
    from docx import Document

    src = make(tmp_path / f"hostile.{make.__name__.rpartition('_')[2]}")
    out = tmp_path / "out"
    args = ["--id-column", "留言编号", "--user-column", "留言用户", "--title-column", "留言主题"]
    args += ["--time-column", "留言时间", "--text-column", "留言详情", "--source-column", "来源"]
    args += ["--place-column", "地点", "--drafts", "all", "--format", "parquet", "-q"]
    done = minyi("score", str(src), "--out", str(out), *args)
    assert done.returncode == 0, done.stderr

    assert OUTPUTS <= {p.name for p in out.iterdir()}
    opinions = pd.read_csv(
        out / "opinions.csv", encoding="utf-8-sig", keep_default_na=False, dtype=str
    )
    assert opinions["row"].tolist() == [str(i) for i in range(ROWS)]  # every row, in order
    ids = [f"{i}-{j}" for i in range(len(HOSTILE)) for j in range(3)]
    assert all(made.endswith(given) for made, given in zip(opinions["id"], ids, strict=True))
    assert (opinions["status"] == "ok").all() and list(opinions.columns[-1:]) == ["备注"]
    sheet = pd.read_excel(
        out / "opinions.xlsx", dtype=str, keep_default_na=False, engine="calamine"
    )
    assert len(sheet) == ROWS and sheet.map(len).to_numpy().max() <= 32767  # Excel's limit
    assert sheet["备注"].str.endswith("…(truncated for Excel)").sum() == 3
    assert len(pd.read_parquet(out / "opinions.parquet")) == ROWS
    clusters = pd.read_csv(out / "clusters.csv", encoding="utf-8-sig", keep_default_na=False)
    assert clusters["size"].sum() == (opinions["status"] == "ok").sum()

    drafts = [
        json.loads(line) for line in (out / "drafts.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    assert len(drafts) == len(clusters)  # --drafts all: one for every cluster
    for draft in drafts:
        assert (out / "drafts" / f"{draft['cluster']}.md").stat().st_size
        Document(str(out / "drafts" / f"{draft['cluster']}.docx"))  # a whole Word file

    html = (out / "report.html").read_text(encoding="utf-8")
    assert html.count("<svg") >= 2 and r"\frac{}{}" in html
    assert "\x00" not in html and "\x1b" not in html
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["rows"] == ROWS
