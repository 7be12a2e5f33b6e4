"""Errors and notes name rows and columns, never what the cells hold: a message is printed,
logged and pasted into bug reports, and an export's cells are citizens' personal data."""

import json

import pandas as pd
import pytest
from hostile_files import xlsx

from nlp.core.errors import InputError
from nlp.io import read_table, resolve_columns

PERSONAL = ["张伟", "13907551234", "110101199003071234", "zhang.wei@example.com"]
ROWS = [
    ["张伟", "13907551234", "小区暖气不热，屋里才十五度", "2024-07-01"],
    ["李娜", "13800138000", "村里那条路坑坑洼洼好几年了", "2024-07-02"],
]


def headerless_csv(path):
    path.write_text("\n".join(",".join(row) for row in ROWS) + "\n", encoding="utf-8")
    return path


def test_minyi_score_on_a_file_without_header_says_so_and_quotes_no_cell(tmp_path, minyi):
    done = minyi(
        "score", str(headerless_csv(tmp_path / "nohead.csv")), "--out", str(tmp_path / "o")
    )
    assert done.returncode == 2
    message = done.stderr.strip().splitlines()[-1]
    assert message.startswith("minyi: error: ") and "first row looks like data" in message
    assert "--text-column 3" in message and "header row" in message
    for cell in (c for row in ROWS for c in row):
        assert cell not in done.stderr and cell not in done.stdout


def test_minyi_score_takes_the_text_column_by_number_and_keeps_the_first_row(tmp_path, minyi):
    src = headerless_csv(tmp_path / "nohead.csv")
    out = tmp_path / "o"
    done = minyi("score", str(src), "--out", str(out), "--text-column", "3", "--time-column", "4")
    assert done.returncode == 0, done.stderr
    assert "looks like data" in done.stderr and "13907551234" not in done.stderr
    opinions = pd.read_csv(out / "opinions.csv", encoding="utf-8-sig", keep_default_na=False)
    assert opinions["row"].tolist() == [0, 1] and opinions["status"].tolist() == ["ok", "ok"]
    assert opinions["text"].tolist() == [row[2] for row in ROWS]
    assert opinions["time"].tolist() == ["2024-07-01 00:00:00", "2024-07-02 00:00:00"]
    summary = json.loads((out / "summary.json").read_text(encoding="utf-8"))
    assert summary["input"]["columns"]["text"] == "column_3"
    assert "13907551234" not in json.dumps(summary, ensure_ascii=False)


def _xlsx_without_header(path):
    pd.DataFrame([ROWS[0], ROWS[1]]).to_excel(path, index=False, header=False)


def _json_keys(path):
    path.write_text(
        "".join(json.dumps({f"{p}{i}": "x"}) + "\n" for i in range(201) for p in PERSONAL[:1])
    )


@pytest.mark.parametrize(
    ("name", "make", "text_column"),
    [
        ("nohead.csv", headerless_csv, None),
        ("nohead.csv", headerless_csv, "9"),
        ("nohead.xlsx", _xlsx_without_header, None),
        ("gbk.xlsx", lambda p: p.write_bytes(",".join(ROWS[0]).encode("gbk")), None),
        ("page.xls", lambda p: p.write_text(f"<html><td>{ROWS[0][0]}</td></html>"), None),
        (
            "junk.csv",
            lambda p: p.write_bytes(("张伟 13907551234".encode() + bytes(range(32))) * 200),
            None,
        ),
        ("bad.json", lambda p: p.write_text('[{"text": "张伟 13907551234"}, {"text": 1'), None),
        ("keys.jsonl", _json_keys, None),
        (
            "entity.xlsx",
            lambda p: xlsx(p, {"A1": "意见", "A2": "&张伟13907551234;"}, "A1:A2"),
            None,
        ),
        ("wide.csv", lambda p: p.write_text(",".join(["13907551234"] * 300) + "\n"), None),
    ],
)
def test_no_input_error_quotes_a_cell(tmp_path, name, make, text_column):
    path = tmp_path / name
    make(path)
    with pytest.raises(InputError) as e:
        table = read_table(path)
        resolve_columns(list(table.frame.columns), text=text_column)
    for value in PERSONAL + [c for row in ROWS for c in row]:
        assert value not in str(e.value), (name, str(e.value))
