"""The ``minyi`` command as staff and scripts use it: real files in, real files out."""

import json
import re
import zipfile

import pandas as pd
import pytest


def read_out(folder):
    return pd.read_csv(folder / "opinions.csv", encoding="utf-8-sig", keep_default_na=False)


def test_cli_help_explains_every_option_with_examples(minyi):
    top = minyi("--help")
    assert top.returncode == 0 and "score" in top.stdout and "demo" in top.stdout
    sub = minyi("score", "--help")
    for option in (
        "--out",
        "--text-column",
        "--id-column",
        "--time-column",
        "--source-column",
        "--place-column",
        "--keep-pii",
        "--format",
        "--sheet",
    ):
        assert option in sub.stdout
    assert sub.stdout.count("Example") >= 8


def test_cli_score_gbk_csv_with_bad_rows(tmp_path, minyi):
    src = tmp_path / "q3.csv"
    src.write_bytes(
        "编号,来源,意见内容\n1,接待日,暖气不热，屋里才十五度\n2,扫码,\n3,12345,医保报销要跑好几趟，电话13900001234\n".encode(
            "gbk"
        )
    )
    done = minyi("score", str(src), "--out", str(tmp_path / "out"), "--source-column", "来源")
    assert done.returncode == 0, done.stderr
    assert "gb18030" in done.stderr
    out = read_out(tmp_path / "out")
    assert out["status"].tolist() == ["ok", "empty", "ok"]
    assert out["source"].tolist() == ["接待日", "扫码", "12345"]
    for f in (tmp_path / "out").iterdir():
        assert b"13900001234" not in f.read_bytes(), f.name


def test_cli_score_parquet_format(tmp_path, minyi):
    src = tmp_path / "a.txt"
    src.write_text("暖气不热\n路坏了\n", encoding="utf-8")
    done = minyi("score", str(src), "--out", str(tmp_path / "o"), "--format", "parquet", "-q")
    assert done.returncode == 0, done.stderr
    assert len(pd.read_parquet(tmp_path / "o" / "opinions.parquet")) == 2


def _truncated_xlsx(path):
    pd.DataFrame({"text": ["暖气不热"] * 50}).to_excel(path, index=False)
    path.write_bytes(path.read_bytes()[:500])


@pytest.mark.parametrize(
    ("name", "make", "args", "message"),
    [
        ("missing.csv", None, [], "does not exist"),
        ("cols.csv", lambda p: p.write_text("甲,乙\n1,2\n", encoding="utf-8"), [], "甲, 乙"),
        (
            "cols2.csv",
            lambda p: p.write_text("甲,乙\n1,2\n", encoding="utf-8"),
            ["--text-column", "内容"],
            "甲, 乙",
        ),
        ("bad.xlsx", _truncated_xlsx, [], "damaged or truncated"),
        (
            "sheet.xlsx",
            lambda p: pd.DataFrame({"text": ["x"]}).to_excel(p, index=False, sheet_name="一季度"),
            ["--sheet", "三季度"],
            "一季度",
        ),
        ("bin.csv", lambda p: p.write_bytes(bytes(range(256)) * 50), [], "binary"),
        ("zip.csv", lambda p: zipfile.ZipFile(p, "w").close(), [], "ZIP"),
    ],
)
def test_cli_unreadable_input_exits_2_without_traceback(tmp_path, name, make, args, message, minyi):
    path = tmp_path / name
    if make:
        make(path)
    done = minyi("score", str(path), "--out", str(tmp_path / "out"), *args)
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr + done.stdout
    assert done.stderr.strip().splitlines()[-1].startswith("minyi: error:")


def test_cli_header_only_file_writes_empty_outputs(tmp_path, minyi):
    src = tmp_path / "h.csv"
    src.write_text("编号,意见内容\n", encoding="utf-8")
    done = minyi("score", str(src), "--out", str(tmp_path / "o"))
    assert done.returncode == 0 and "no data rows" in done.stderr
    assert len(read_out(tmp_path / "o")) == 0


def test_cli_xlsx_with_empty_huge_and_junk_cells_keeps_every_row(tmp_path, minyi):
    src = tmp_path / "odd.xlsx"
    texts = [
        "暖气不热",
        "",
        "   ",
        "路" * 30000,
        "\x01\x02\x03\x04\x05\x06\x07",
        "村里那条路坑坑洼洼",
    ]
    # openpyxl refuses control characters, so write the workbook with xlsxwriter, as exports do
    with pd.ExcelWriter(src, engine="xlsxwriter") as w:
        pd.DataFrame({"id": list("abcdef"), "text": texts}).to_excel(w, index=False)
    done = minyi("score", str(src), "--out", str(tmp_path / "o"), "--id-column", "id")
    assert done.returncode == 0, done.stderr
    out = read_out(tmp_path / "o")
    assert out["id"].tolist() == list("abcdef") and out["row"].tolist() == list(range(6))
    assert out["status"].tolist() == ["ok", "empty", "empty", "ok", "error", "ok"]
    assert all(out.loc[out.status != "ok", "error"].str.len() > 0)


def test_cli_demo_runs_on_the_built_in_sample(tmp_path, minyi):
    done = minyi("demo", "--out", str(tmp_path / "demo"), "-q")
    assert done.returncode == 0, done.stderr
    out = read_out(tmp_path / "demo")
    assert len(out) >= 300 and (out["status"] == "ok").sum() >= 300
    assert out["duplicate_of"].astype(str).str.len().gt(0).sum() > 0
    assert not out["text"].str.contains(r"1390000\d{4}").any()
    assert (out["level1"] == "待人工").mean() < 0.1
    assert str(tmp_path / "demo") in done.stdout
    # The default classifier: the built-in model, self-trained on the input, and said so.
    summary = json.loads((tmp_path / "demo" / "summary.json").read_text(encoding="utf-8"))
    learnt = summary["classifier"]["self_trained_on_rows"]
    assert summary["classifier"]["model"] == "built-in model" and learnt >= 200
    assert f"classified by the built-in model, self-trained on {learnt} rows" in done.stdout
    report = (tmp_path / "demo" / "report.html").read_text(encoding="utf-8")
    assert f"classified by: built-in model (self-trained on {learnt} rows" in report
    drafts = (tmp_path / "demo" / "drafts.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(drafts) >= 20 and len(list((tmp_path / "demo" / "drafts").glob("*.docx"))) == len(
        drafts
    )
    assert not any(re.search(r"1390000\d{4}", line) for line in drafts)


def test_cli_no_self_train_and_the_keyword_rules(tmp_path, minyi):
    from nlp.core.resources import corpus_path

    sample = str(corpus_path("sample_opinions.csv"))  # about 300 distinct opinions
    common = ("--drafts", "none", "--engine", "inline", "-q")
    for name, flags in (("plain", ["--no-self-train"]), ("lexicon", ["--model", "lexicon"])):
        done = minyi("score", sample, *flags, "--out", str(tmp_path / name), *common)
        assert done.returncode == 0, done.stderr
    plain, lexicon = (
        json.loads((tmp_path / name / "summary.json").read_text(encoding="utf-8"))
        for name in ("plain", "lexicon")
    )
    assert plain["classifier"] == {
        "model": "built-in model",
        "config": "builtin",
        "self_trained_on_rows": 0,
    }
    assert plain["config"]["self_train"] is False
    assert lexicon["classifier"]["model"] == "keyword rules"


def test_cli_train_then_score_with_model(tmp_path, minyi):
    rows = [
        ("暖气不热", "供暖"),
        ("暖气片冰凉", "供暖"),
        ("供暖温度不够", "供暖"),
        ("取暖费交了不暖和", "供暖"),
        ("路面坑坑洼洼", "道路"),
        ("村道破损", "道路"),
        ("修路修一半停了", "道路"),
        ("路上全是坑", "道路"),
        ("", "道路"),
    ]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(tmp_path / "train.csv", index=False)
    done = minyi(
        "train",
        str(tmp_path / "train.csv"),
        "--text-column",
        "text",
        "--label-column",
        "label",
        "--out",
        str(tmp_path / "model"),
    )
    assert done.returncode == 0, done.stderr
    assert "8 labeled rows" in done.stdout and (tmp_path / "model" / "manifest.json").is_file()
    (tmp_path / "new.txt").write_text("暖气一点都不热\n那条路坑很多\n", encoding="utf-8")
    done = minyi(
        "score",
        str(tmp_path / "new.txt"),
        "--model",
        str(tmp_path / "model"),
        "--out",
        str(tmp_path / "o"),
        "-q",
    )
    assert done.returncode == 0, done.stderr
    assert read_out(tmp_path / "o")["level1"].tolist() == ["供暖", "道路"]
    bad = minyi(
        "score", str(tmp_path / "new.txt"), "--model", str(tmp_path), "--out", str(tmp_path / "o2")
    )
    assert bad.returncode == 2 and "manifest.json" in bad.stderr


def test_cli_train_borrows_the_corpus_where_labels_are_taxonomy_names(tmp_path, minyi):
    # No two rows of a class share a character: alone they cannot be told apart in cross-validation.
    rows = [
        ("锅炉房停烧", "供暖"),
        ("暖气片冰凉", "供暖"),
        ("屋里才十五度", "供暖"),
        ("工地半夜打桩", "施工噪音"),
        ("楼下歌厅太吵", "施工噪音"),
        ("广场舞音响震天", "施工噪音"),
    ]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(tmp_path / "train.csv", index=False)
    args = [
        "train",
        str(tmp_path / "train.csv"),
        "--text-column",
        "text",
        "--label-column",
        "label",
    ]
    done = minyi(*args, "--out", str(tmp_path / "model"))
    assert done.returncode == 0, done.stderr
    assert re.search(
        r"\d+ opinions of the project's corpus bear 2 of your label names", done.stdout
    )
    borrowed = json.loads((tmp_path / "model" / "manifest.json").read_text(encoding="utf-8"))[
        "borrowed"
    ]
    assert borrowed["rows"] > 40 and borrowed["used"] and "were kept" in done.stdout
    alone = minyi(*args, "--no-corpus", "--out", str(tmp_path / "alone"))
    assert alone.returncode == 0, alone.stderr
    assert (
        json.loads((tmp_path / "alone" / "manifest.json").read_text(encoding="utf-8"))["borrowed"]
        is None
    )
    assert "corpus" not in alone.stdout


def test_cli_state_keeps_cluster_ids_across_quarters(tmp_path, minyi):
    q3 = pd.DataFrame(
        {
            "意见内容": [
                "青石村那条路坑坑洼洼好几年了",
                "青石村的路太烂了，坑坑洼洼没法走",
                "医保报销要跑好几趟",
            ],
            "日期": ["2024-08-01"] * 3,
        }
    )
    q4 = pd.DataFrame(
        {
            "意见内容": ["青石村那条路还是坑坑洼洼", "柳湾村自来水停了三天"],
            "日期": ["2024-11-02"] * 2,
        }
    )
    q3.to_csv(tmp_path / "q3.csv", index=False)
    q4.to_csv(tmp_path / "q4.csv", index=False)
    for name in ("q3", "q4"):
        done = minyi(
            "score",
            str(tmp_path / f"{name}.csv"),
            "--state",
            str(tmp_path / "state"),
            "--out",
            str(tmp_path / name),
            "-q",
        )
        assert done.returncode == 0, done.stderr
    a, b = read_out(tmp_path / "q3"), read_out(tmp_path / "q4")
    assert b["cluster"][0] == a["cluster"][0] and b["cluster"][1] == "C2024Q4-0001"
    clusters = pd.read_csv(tmp_path / "q4" / "clusters.csv", encoding="utf-8-sig")
    assert set(clusters["cluster"]) == set(b["cluster"])
    assert (tmp_path / "q4" / "hot_issues.xlsx").is_file() and (
        tmp_path / "state" / "minyi.sqlite"
    ).is_file()


def test_cli_evaluate_prints_scores_and_json(tmp_path, minyi):
    import json

    rows = [
        ("暖气不热，屋里才十五度", "城乡建设"),
        ("医保报销要跑好几趟", "劳动和社会保障"),
        ("村里那条路坑坑洼洼", "交通运输"),
        ("", "交通运输"),
    ]
    pd.DataFrame(rows, columns=["text", "label"]).to_csv(tmp_path / "gold.csv", index=False)
    done = minyi(
        "evaluate",
        str(tmp_path / "gold.csv"),
        "--label-column",
        "label",
        "--model",
        "lexicon",
        "--json",
    )
    assert done.returncode == 0, done.stderr
    report = json.loads(done.stdout)
    assert (
        report["rows"] == 3
        and report["macro_f1"] == 1.0
        and report["confusion"]["matrix"][0] == [1, 0, 0]
    )
    table = minyi(
        "evaluate", str(tmp_path / "gold.csv"), "--label-column", "label", "--model", "lexicon"
    )
    assert table.returncode == 0 and "macro-F1 1.000" in table.stdout
    missing = minyi("evaluate", str(tmp_path / "gold.csv"), "--label-column", "nope")
    assert missing.returncode == 2 and "nope" in missing.stderr


@pytest.mark.slow
def test_cli_review_decisions_travel_and_teach_the_built_in_model(tmp_path, minyi):
    from nlp.clustering.review import Review

    src = tmp_path / "q3.csv"
    heating = [
        "暖气不热，屋里才十五度",
        "我家暖气片冰凉，供暖公司不管",
        "小区暖气一直不热，老人冻得睡不着",
    ]
    other = ["青石村那条路坑坑洼洼好几年了", "医保报销要跑好几趟", "幸福小区电梯又坏了"]
    pd.DataFrame({"编号": range(1, 7), "日期": "2024-08-01", "意见内容": heating + other}).to_csv(
        src, index=False, encoding="utf-8-sig"
    )
    for name in ("here", "there"):
        done = minyi(
            "score",
            str(src),
            "--out",
            str(tmp_path / f"out-{name}"),
            "--state",
            str(tmp_path / name),
            "-q",
        )
        assert done.returncode == 0, done.stderr
    review = Review(tmp_path / "here", who="指导员")
    heat = review.opinions(read_out(tmp_path / "out-here")["cluster"][0])
    assert set(heat["text"]) == set(heating)
    # An unusual label on purpose: only review can teach it.
    review.relabel(heat["cluster"][0], "民政", "独居老人/养老", why="冬季困难老人取暖")
    review.mark(heat["cluster"][0], "已核实")

    exported = minyi(
        "export-decisions", "--state", str(tmp_path / "here"), str(tmp_path / "d.json")
    )
    assert exported.returncode == 0 and "2 decisions" in exported.stdout
    imported = minyi(
        "import-decisions", "--state", str(tmp_path / "there"), str(tmp_path / "d.json")
    )
    assert imported.returncode == 0 and "2 decisions applied, 0 skipped" in imported.stdout, (
        imported.stdout
    )
    again = minyi(
        "score",
        str(src),
        "--out",
        str(tmp_path / "again"),
        "--state",
        str(tmp_path / "there"),
        "-q",
    )
    assert again.returncode == 0, again.stderr
    rows = read_out(tmp_path / "again")
    assert rows["level1"].tolist()[:3] == ["民政"] * 3 and "民政" not in rows["level1"].tolist()[3:]
    clusters = pd.read_csv(
        tmp_path / "again" / "clusters.csv", encoding="utf-8-sig", keep_default_na=False
    )
    assert clusters.set_index("cluster").loc[rows["cluster"][0], "status"] == "已核实"

    trained = minyi(
        "train", "--from-state", str(tmp_path / "here"), "--out", str(tmp_path / "model")
    )
    assert trained.returncode == 0, trained.stderr
    assert "3 reviewed opinions" in trained.stdout
    fresh = tmp_path / "fresh.csv"
    fresh.write_text(
        "意见内容\n暖气不热，屋里才十五度\n青石村那条路坑坑洼洼好几年了\n", encoding="utf-8"
    )
    scored = minyi(
        "score",
        str(fresh),
        "--out",
        str(tmp_path / "with-model"),
        "--model",
        str(tmp_path / "model"),
        "-q",
    )
    assert scored.returncode == 0, scored.stderr
    assert read_out(tmp_path / "with-model")["level1"].tolist() == ["民政", "交通运输"]


@pytest.mark.slow
def test_cli_engine_dask_matches_inline(tmp_path, minyi):
    pytest.importorskip("distributed")
    from nlp.core.resources import corpus_path

    sample = str(corpus_path("sample_opinions.csv"))
    for engine in ("inline", "dask"):
        done = minyi(
            "score",
            sample,
            "--out",
            str(tmp_path / engine),
            "--engine",
            engine,
            "--workers",
            "2",
            "--block-size",
            "100",
            "--drafts",
            "none",
            "-q",
        )
        assert done.returncode == 0, done.stderr
    pd.testing.assert_frame_equal(read_out(tmp_path / "dask"), read_out(tmp_path / "inline"))
    bad = minyi("score", sample, "--out", str(tmp_path / "x"), "--engine", "spark")
    assert bad.returncode == 2 and "spark" in bad.stderr
