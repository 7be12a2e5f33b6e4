import json
import re

import pandas as pd

from nlp import InputTable
from nlp.outputs import write_outputs


def test_write_outputs_writes_files_staff_can_open(tmp_path, pipeline):
    result = pipeline.run(
        InputTable.from_texts(["暖气不热", '=HYPERLINK("http://x")', "", "路" * 40000])
    )
    written = write_outputs(result, tmp_path / "out", ["csv", "xlsx", "parquet"])
    assert {p.name for p in written.values()} == {
        "opinions.csv",
        "opinions.xlsx",
        "opinions.parquet",
        "clusters.csv",
        "hot_issues.xlsx",
        "summary.json",
        "report.html",
    }
    assert (tmp_path / "out" / "opinions.csv").read_bytes().startswith(b"\xef\xbb\xbf")
    csv = pd.read_csv(written["csv"], encoding="utf-8-sig", keep_default_na=False)
    xlsx = pd.read_excel(written["xlsx"], keep_default_na=False, dtype=str, engine="calamine")
    parquet = pd.read_parquet(written["parquet"])
    for frame in (csv, xlsx, parquet):
        assert len(frame) == 4 and frame["status"].tolist() == ["ok", "ok", "empty", "ok"]
    assert xlsx["text"][1].startswith("=HYPERLINK")  # stored as text, not as a formula
    summary = json.loads(written["summary"].read_text(encoding="utf-8"))
    assert summary["status"]["empty"] == 1
    html = written["report"].read_text(encoding="utf-8")
    assert "城乡建设" in html and "<script" not in html
    assert not re.search(
        r'(?:src|href)\s*=\s*"(?!#)', html
    )  # nothing to fetch (only links inside the page): it opens offline
    assert "&#34;http" in html  # cell text is escaped, never markup
    assert not list((tmp_path / "out").glob(".*.tmp"))
    assert (
        pd.read_excel(written["xlsx"], sheet_name="clusters", engine="calamine")["size"].sum() == 3
    )
    hot = pd.read_excel(written["hot_issues"], sheet_name=None, engine="calamine")
    assert list(hot) == ["热点问题", "留言明细"]
    assert list(hot["热点问题"].columns[:6]) == [
        "热度排名",
        "问题ID",
        "热度指数",
        "时间范围",
        "地点/人群",
        "问题描述",
    ]


def test_workbook_cells_keep_their_types_and_a_long_text_keeps_its_row(tmp_path):
    from nlp.outputs.writers import _write_xlsx

    frame = pd.DataFrame(
        {
            "text": pd.array(["路" * 40000, "a\x01b", None, "", "=1+1", "普通"], dtype="string"),
            "mixed": ["x\x02", None, float("nan"), "", 3, True],
            "score": [1.5, float("nan"), 0.0, -2.0, 3.0, 4.0],
            "count": pd.array([1, None, 3, 4, 5, 6], dtype="Int64"),
            "flag": [False, True, False, True, False, True],
        }
    )
    _write_xlsx(tmp_path / "t.xlsx", {"t": frame}, wide={})
    back = pd.read_excel(tmp_path / "t.xlsx", engine="calamine")
    # Cut to the cell's limit with a note; the cells after it in its row are still written.
    assert len(back["text"][0]) == 32767 and back["text"][0].endswith("…(truncated for Excel)")
    assert back.loc[0, ["mixed", "score", "count", "flag"]].tolist() == ["x", 1.5, 1, False]
    assert back["text"][1:].fillna("").tolist() == [
        "ab",
        "",
        "",
        "=1+1",
        "普通",
    ]  # XML's forbidden characters dropped
    assert back["mixed"].isna().tolist() == [False, True, True, True, False, False] and back[
        "mixed"
    ][4:].tolist() == [3, True]
    assert back["score"].isna().tolist() == [False, True, False, False, False, False]
    assert (
        back["count"].isna().tolist() == [False, True, False, False, False, False]
        and back["flag"].tolist() == frame["flag"].tolist()
    )


def test_rows_past_one_sheet_go_on_to_further_sheets(tmp_path, pipeline, monkeypatch):
    from nlp.outputs import writers

    monkeypatch.setattr(
        writers, "_XLSX_ROWS", 4
    )  # Excel's 1,048,576, made small: 3 data rows a sheet
    texts = [
        "暖气不热",
        "路灯坏了",
        "医保报销要跑好几趟",
        "村里那条路坑坑洼洼",
        "垃圾站太臭",
        "噪音扰民",
        "自来水发黄",
    ]
    written = write_outputs(pipeline.run(InputTable.from_texts(texts)), tmp_path / "out", ["xlsx"])
    sheets = pd.read_excel(
        written["xlsx"], sheet_name=None, keep_default_na=False, dtype=str, engine="calamine"
    )
    assert [name for name in sheets if name.startswith("opinions")] == [
        "opinions",
        "opinions (2)",
        "opinions (3)",
    ]
    whole = pd.concat(
        [sheets["opinions"], sheets["opinions (2)"], sheets["opinions (3)"]], ignore_index=True
    )
    assert whole["row"].astype(int).tolist() == list(range(7)) and whole["text"].tolist() == texts


def test_csv_texts_that_start_a_formula_get_a_quote_and_numbers_stay_numbers(tmp_path, pipeline):
    texts = ['=HYPERLINK("http://x","点我")', "+1 楼暖气不热", "-3", "@SUM(A1)", "路灯坏了"]
    notes = ["-2", "+1", "=1+1", "@", "5"]
    result = pipeline.run(InputTable.from_frame(pd.DataFrame({"text": texts, "备注": notes})))
    out = write_outputs(result, tmp_path / "safe", ["csv"])
    raw = write_outputs(result, tmp_path / "raw", ["csv"], raw_csv=True)
    safe = pd.read_csv(out["csv"], encoding="utf-8-sig", keep_default_na=False, dtype=str)
    plain = pd.read_csv(raw["csv"], encoding="utf-8-sig", keep_default_na=False, dtype=str)
    assert plain["text"][0] == texts[0] and plain["备注"].tolist() == notes
    assert safe["text"][0] == "'" + texts[0] and safe["text"][1] == "'+1 楼暖气不热"
    assert safe["text"].tolist()[2:] == [
        "-3",
        "'@SUM(A1)",
        "路灯坏了",
    ]  # a plain number is no formula
    assert safe["备注"].tolist() == ["-2", "+1", "'=1+1", "'@", "5"]
    for name in ("row", "confidence", "duplicate_of"):  # numeric columns are written alike
        assert safe[name].tolist() == plain[name].tolist()
    clusters = pd.read_csv(out["clusters_csv"], encoding="utf-8-sig", keep_default_na=False)
    assert not clusters["title"].str.startswith(("=", "@", "+")).any()
    assert clusters["heat"].dtype == float


def test_csv_column_names_and_carriage_returns_inside_cells(tmp_path):
    from nlp.outputs.writers import _csv_safe

    frame = pd.DataFrame({"=cmd": ["a\rb", "c\r\nd", "\r=1"], "n": [-1, 2, 3]})
    path = tmp_path / "t.csv"
    _csv_safe(frame).to_csv(path, index=False)
    back = pd.read_csv(path, keep_default_na=False)
    assert list(back.columns) == ["'=cmd", "n"] and back["n"].tolist() == [-1, 2, 3]
    assert back["'=cmd"].tolist() == ["a\nb", "c\nd", "'\n=1"]  # one row each: no bare \r
    assert frame.columns[0] == "=cmd" and frame.iloc[0, 0] == "a\rb"  # the frame is not changed
    unchanged = pd.DataFrame({"text": ["暖气不热"], "n": [1]})
    assert _csv_safe(unchanged) is unchanged


def test_workbook_headers_and_cells_drop_what_xml_cannot_hold(tmp_path):
    from nlp.outputs.writers import _write_xlsx

    cells = ["a\x00\ufffeb\ud800", "\x0b\u202e右"]
    frame = pd.DataFrame({"备注\x00\x1b": cells, "n": [1, 2]}, dtype=object)
    _write_xlsx(tmp_path / "t.xlsx", {"t": frame}, wide={})
    back = pd.read_excel(tmp_path / "t.xlsx", engine="calamine")
    assert list(back.columns) == ["备注", "n"] and back["备注"].tolist() == ["ab\ufffd", "\u202e右"]
