import json
import zipfile

import pandas as pd
import pytest

from nlp import InputTable
from nlp.core.errors import InputError
from nlp.io import read_table

ROWS = [
    ("1", "暖气不热，屋里才十五度"),
    ("2", "村里那条路坑坑洼洼好几年了"),
    ("3", "醫保報銷要跑好幾趟"),
]


def write_csv(path, encoding, sep=","):
    lines = [f"编号{sep}意见内容"] + [f"{i}{sep}{t}" for i, t in ROWS]
    path.write_bytes(("\n".join(lines) + "\n").encode(encoding))
    return path


@pytest.mark.parametrize(
    ("encoding", "label"),
    [
        ("utf-8", "utf-8"),
        ("utf-8-sig", "utf-8 with BOM"),
        ("gbk", "gb18030"),
        ("gb18030", "gb18030"),
    ],
)
def test_read_csv_detects_encoding(tmp_path, encoding, label):
    table = read_table(write_csv(tmp_path / "a.csv", encoding))
    assert table.encoding == label
    assert table.frame["意见内容"].tolist() == [t for _, t in ROWS]


def test_read_big5_csv(tmp_path):
    path = tmp_path / "b.csv"
    path.write_bytes("編號,意見內容\n1,醫保報銷要跑好幾趟，暖氣不熱，屋裡才十五度\n".encode("big5"))
    table = read_table(path)
    assert table.encoding == "big5"
    assert table.frame.iloc[0, 1].startswith("醫保報銷")


def test_read_mixed_encodings_keeps_every_row(tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_bytes(
        b"id,text\n"
        + "1,暖气不热\n".encode()
        + "2,路面积水\n".encode("gbk")
        + b"3,\xff\xfe\xfa junk\n"
    )
    table = read_table(path)
    assert table.encoding.startswith("mixed")
    assert table.frame["text"].tolist()[:2] == ["暖气不热", "路面积水"]
    assert len(table.frame) == 3 and "\ufffd" in table.frame["text"][2]
    assert table.notes


def test_read_tsv_txt_jsonl_json_parquet(tmp_path):
    tsv = read_table(write_csv(tmp_path / "a.tsv", "utf-8", sep="\t"))
    assert tsv.frame.shape == (3, 2)
    (tmp_path / "a.txt").write_text("暖气不热\n\n路坏了\n\n", encoding="utf-8")
    assert read_table(tmp_path / "a.txt").frame["text"].tolist() == ["暖气不热", "", "路坏了"]
    (tmp_path / "a.jsonl").write_text(
        '{"text": "暖气不热", "id": 7}\nnot json\n"路坏了"\n', encoding="utf-8"
    )
    jl = read_table(tmp_path / "a.jsonl")
    assert jl.frame["text"].tolist() == ["暖气不热", "", "路坏了"] and list(jl.row_errors) == [1]
    (tmp_path / "a.json").write_text(
        json.dumps([{"text": "甲"}, {"text": "乙"}], ensure_ascii=False), encoding="utf-8"
    )
    assert read_table(tmp_path / "a.json").frame["text"].tolist() == ["甲", "乙"]
    pd.DataFrame({"text": ["暖气不热", None], "n": [1.0, 2.5]}).to_parquet(tmp_path / "a.parquet")
    pq = read_table(tmp_path / "a.parquet")
    assert pq.frame["text"].tolist() == ["暖气不热", ""] and pq.frame["n"].tolist() == ["1", "2.5"]


def test_read_xlsx_with_sheet_choice(tmp_path):
    path = tmp_path / "a.xlsx"
    with pd.ExcelWriter(path) as w:
        pd.DataFrame().to_excel(w, sheet_name="封面", index=False)
        pd.DataFrame({"留言编号": [188006, 188007], "留言详情": ["暖气不热", None]}).to_excel(
            w, sheet_name="数据", index=False
        )
    table = read_table(path)
    assert table.sheet == "数据"
    assert table.frame["留言编号"].tolist() == ["188006", "188007"]
    assert table.frame["留言详情"].tolist() == ["暖气不热", ""]
    with pytest.raises(InputError, match="no sheet '第三季度'.*封面, 数据"):
        read_table(path, sheet="第三季度")


def test_read_truncated_xlsx_fails_clearly(tmp_path):
    path = tmp_path / "a.xlsx"
    pd.DataFrame({"text": ["暖气不热"] * 100}).to_excel(path, index=False)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(InputError, match="damaged or truncated"):
        read_table(path)


def test_read_csv_row_with_extra_fields_is_kept_with_an_error(tmp_path):
    path = tmp_path / "a.csv"
    path.write_text("id,text\n1,暖气不热\n2,路坏了,多出来,的字段\n3\n", encoding="utf-8")
    table = read_table(path)
    assert table.frame["text"].tolist() == ["暖气不热", "路坏了", ""]
    assert list(table.row_errors) == [1] and "fields" in table.row_errors[1]


def test_read_csv_with_a_megabyte_cell(tmp_path):
    path = tmp_path / "big.csv"
    path.write_text("text\n" + "路" * 1_000_000 + "\n短\n", encoding="utf-8")
    table = read_table(path)
    assert len(table.frame) == 2 and len(table.frame["text"][0]) == 1_000_000


def test_read_header_only_csv_gives_zero_rows(tmp_path):
    path = tmp_path / "h.csv"
    path.write_text("编号,意见内容\n", encoding="utf-8")
    table = read_table(path)
    assert list(table.frame.columns) == ["编号", "意见内容"] and len(table.frame) == 0


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", b"", "empty"),
        ("bin.csv", bytes(range(256)) * 40, "binary"),
        ("zip.csv", None, "ZIP"),
        ("a.doc", b"hello", "unsupported"),
    ],
)
def test_unreadable_files_raise_input_error(tmp_path, name, content, message):
    path = tmp_path / name
    if content is None:
        with zipfile.ZipFile(path, "w") as z:
            z.writestr("x.txt", "x")
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message):
        read_table(path)


def test_missing_file_raises_input_error(tmp_path):
    with pytest.raises(InputError, match="does not exist"):
        read_table(tmp_path / "nope.csv")


def test_read_csv_keeps_blank_rows_between_data_drops_trailing_ones_and_reads_quoted_newlines(
    tmp_path,
):
    path = tmp_path / "q.csv"
    path.write_text(
        '编号,意见内容\n1,"暖气不热，\n屋里才十五度"\n,\n3,路坏了\n\n\n', encoding="utf-8"
    )
    table = read_table(path)
    assert table.frame["意见内容"].tolist() == ["暖气不热，\n屋里才十五度", "", "路坏了"]
    assert table.frame["编号"].tolist() == ["1", "", "3"]


def test_read_csv_with_bom_and_a_bad_byte_notes_the_line(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(
        b"\xef\xbb\xbf"
        + "编号,意见内容\n1,暖气不热\n".encode()
        + b"2,\xff\xfe road\n"
        + "3,路坏了\n".encode()
    )
    table = read_table(path)
    assert table.encoding == "utf-8 with BOM" and list(table.frame.columns) == ["编号", "意见内容"]
    assert len(table.frame) == 3 and "\ufffd" in table.frame["意见内容"][1]
    assert table.notes and table.notes[0].startswith("1 line(s)")


def test_read_csv_with_a_given_encoding(tmp_path):
    table = read_table(write_csv(tmp_path / "g.csv", "gbk"), encoding="gbk")
    assert table.encoding == "gbk" and table.frame["意见内容"].tolist() == [t for _, t in ROWS]


def test_read_large_csv_streams_instead_of_holding_the_file(tmp_path):
    import tracemalloc

    path = tmp_path / "big.csv"
    line = "村里那条路坑坑洼洼好几年了，下雨天积水很深，老人孩子出行很不方便，希望尽快修一修。" * 3
    path.write_text(
        "编号,意见内容\n" + "".join(f"{i},{line}{i}\n" for i in range(20000)), encoding="utf-8"
    )
    tracemalloc.start()
    try:
        table = read_table(path)
        kept, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(table.frame) == 20000 and table.frame["编号"].iloc[-1] == "19999"
    # The cells themselves are most of what is kept; reading the file whole held its bytes, its
    # text and a list of rows besides (over three times as much at the peak).
    assert peak < 1.6 * kept, (peak, kept)


def test_read_csv_without_a_header_keeps_its_first_row_as_data(tmp_path):
    path = tmp_path / "nohead.csv"
    path.write_text("张伟,13907551234,小区暖气不热\n李娜,13800138000,路灯坏了\n", encoding="utf-8")
    table = read_table(path)
    assert list(table.frame.columns) == ["column_1", "column_2", "column_3"]
    assert table.frame["column_3"].tolist() == ["小区暖气不热", "路灯坏了"]
    assert "looks like data" in table.notes[0] and "13907551234" not in table.notes[0]


def test_read_xlsx_without_a_header_keeps_its_first_row_as_data(tmp_path):
    path = tmp_path / "nohead.xlsx"
    pd.DataFrame([[188006, "暖气不热"], [188007, "路灯坏了"]]).to_excel(
        path, index=False, header=False
    )
    table = read_table(path)
    assert table.frame.values.tolist() == [["188006", "暖气不热"], ["188007", "路灯坏了"]]


def test_read_csv_wider_than_the_column_limit_fails_before_reading_rows(tmp_path):
    path = tmp_path / "wide.csv"
    header = ",".join(f"c{i}" for i in range(100_000))
    path.write_text(header + "\n" + "x\n" * 1000, encoding="utf-8")
    with pytest.raises(InputError, match=r"100,000 columns; Minyi reads at most 200"):
        read_table(path)


def test_read_csv_past_the_cell_limit_stops_there(tmp_path, monkeypatch):
    from nlp.io import readers

    monkeypatch.setattr(readers, "MAX_CELLS", 100)
    path = tmp_path / "long.csv"
    path.write_text("id,text\n" + "1,暖气不热\n" * 51, encoding="utf-8")
    with pytest.raises(InputError, match=r"51 rows of 2 columns \(102 cells\).*at most 100 cells"):
        read_table(path)
    path.write_text("id,text\n" + "1,暖气不热\n" * 50, encoding="utf-8")
    assert len(read_table(path).frame) == 50


def test_read_jsonl_with_too_many_keys_fails_before_building_the_table(tmp_path):
    path = tmp_path / "keys.jsonl"
    path.write_text("".join(f'{{"k{i}": "暖气不热"}}\n' for i in range(100_000)), encoding="utf-8")
    with pytest.raises(InputError, match=r"line 201 .* at most 200 columns"):
        read_table(path)


def test_read_jsonl_nested_too_deep_is_an_error_for_its_row(tmp_path):
    path = tmp_path / "deep.jsonl"
    lines = [
        '{"text": "暖气不热"}',
        '{"text": ' + "[" * 100 + "]" * 100 + "}",
        "[" * 100_000,
        '"路灯坏了"',
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    table = read_table(path)
    assert table.frame["text"].tolist() == ["暖气不热", "", "", "路灯坏了"]
    assert sorted(table.row_errors) == [1, 2] and "64 levels" in table.row_errors[1]


def test_read_json_lone_surrogates_become_replacement_characters(tmp_path):
    path = tmp_path / "s.jsonl"
    line = '{"text": "暖气\\ud800不热", "\\udfff": "x", "id": "\\ud83d\\ude00"}\n'
    path.write_text(line, encoding="utf-8")
    table = read_table(path)
    assert table.frame["text"][0] == "暖气\ufffd不热" and table.frame["id"][0] == "😀"
    assert list(table.frame.columns) == ["text", "\ufffd", "id"]
    assert InputTable.from_texts(["a\udc80"]).frame["text"][0] == "a\ufffd"


def test_read_parquet_wider_than_the_column_limit_fails_before_reading(tmp_path):
    path = tmp_path / "wide.parquet"
    pd.DataFrame({f"c{i}": ["x"] for i in range(201)}).to_parquet(path)
    with pytest.raises(InputError, match="201 columns; Minyi reads at most 200"):
        read_table(path)


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("gbk.xlsx", "编号,意见\n1,张伟 13907551234 暖气不热\n".encode("gbk"), "text .*gbk.csv"),
        ("page.xls", "<html><table><tr><td>张伟</td></tr></table>".encode(), "HTML"),
        ("data.xls", None, r"is an \.xlsx workbook .* rename it to data\.xlsx"),
        ("cut.xlsx", "half", "damaged or truncated"),
        ("junk.xlsx", bytes(range(256)) * 8, "first bytes are neither"),
    ],
)
def test_files_that_are_not_the_workbook_they_claim_fail_clearly(tmp_path, name, content, message):
    path = tmp_path / name
    whole = tmp_path / "whole.xlsx"
    pd.DataFrame({"意见": ["张伟 13907551234 暖气不热"] * 50}).to_excel(whole, index=False)
    if content is None:
        path.write_bytes(whole.read_bytes())
    elif content == "half":
        path.write_bytes(whole.read_bytes()[: whole.stat().st_size // 2])
    else:
        path.write_bytes(content)
    with pytest.raises(InputError, match=message) as e:
        read_table(path)
    assert "13907551234" not in str(e.value) and "张伟" not in str(e.value)
