"""CSV files that Excel opens run a cell starting with =, +, -, @ as a formula: Minyi's CSV files
hold such a text with a leading ', unless asked for the raw texts (--raw-csv)."""

import csv

import pandas as pd

FORMULAS = [
    '=HYPERLINK("http://example.invalid","点我")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(A1:A9)",
]


def read(path):
    return pd.read_csv(path, encoding="utf-8-sig", keep_default_na=False, dtype=str)


def test_minyi_score_writes_formula_safe_csv_and_raw_csv_on_request(tmp_path, minyi):
    src = tmp_path / "q3.csv"
    with open(src, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["编号", "来源", "意见内容", "备注", "点赞数"])
        for i, formula in enumerate(FORMULAS):
            writer.writerow([formula, formula, f"{formula} 小区暖气不热", formula, f"-{i}"])
            writer.writerow([f"\t{i}", "\r扫码", "路灯坏了，晚上很黑", "-3.5", str(i)])
    safe, raw = tmp_path / "safe", tmp_path / "raw"
    for out, extra in ((safe, []), (raw, ["--raw-csv"])):
        done = minyi("score", str(src), "--out", str(out), "--drafts", "all", "-q", *extra)
        assert done.returncode == 0, done.stderr

    quoted, plain = read(safe / "opinions.csv"), read(raw / "opinions.csv")
    assert len(quoted) == len(plain) == 2 * len(FORMULAS)
    for column in ("id", "source", "备注"):
        assert quoted[column][::2].tolist() == ["'" + f for f in FORMULAS]
        assert plain[column][::2].tolist() == FORMULAS
    assert quoted["text"][::2].tolist() == [f"'{f} 小区暖气不热" for f in FORMULAS]
    assert quoted["id"][1::2].tolist() == [f"'\t{i}" for i in range(len(FORMULAS))]
    assert quoted["source"][1::2].tolist() == ["'\n扫码"] * len(FORMULAS)  # a lone \r ends no row
    assert quoted["备注"][1::2].tolist() == ["-3.5"] * len(FORMULAS)  # a plain number is no formula
    assert quoted["likes"].tolist() == plain["likes"].tolist()
    for column in ("row", "confidence", "duplicate_of", "near_duplicate_of"):
        assert quoted[column].tolist() == plain[column].tolist()
    # Nothing else differs, and every cell that does starts with the quote.
    rows, columns = (quoted != plain).to_numpy().nonzero()
    assert {quoted.columns[j] for j in columns} == {"id", "source", "text", "备注"}
    assert all(cell.startswith("'") for cell in quoted.to_numpy()[rows, columns])
    assert not any(c.startswith(("=", "+", "@")) for c in quoted.to_numpy().ravel())

    clusters = read(safe / "clusters.csv")
    assert not clusters.map(lambda c: c.startswith(("=", "+", "@"))).to_numpy().any()
    assert (clusters["size"] == read(raw / "clusters.csv")["size"]).all()
    workbook = pd.read_excel(
        safe / "opinions.xlsx", dtype=str, keep_default_na=False, engine="calamine"
    )
    assert workbook["id"][::2].tolist() == FORMULAS  # workbooks hold texts, never formulas
