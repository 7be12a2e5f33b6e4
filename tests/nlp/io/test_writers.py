import json

import pandas as pd

from nlp import InputTable
from nlp.io import write_outputs


def test_write_outputs_writes_files_staff_can_open(tmp_path, pipeline):
    result = pipeline.run(InputTable.from_texts(["暖气不热", "=HYPERLINK(\"http://x\")", "", "路" * 40000]))
    written = write_outputs(result, tmp_path / "out", ["csv", "xlsx", "parquet"])
    assert {p.name for p in written.values()} == {"opinions.csv", "opinions.xlsx", "opinions.parquet", "summary.json", "report.html"}
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
    assert "城乡建设" in html and "<script" not in html and "http" not in html.split("</style>")[1]
    assert not list((tmp_path / "out").glob(".*.tmp"))
