import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd
import pytest

from nlp import InputTable, Pipeline
from nlp.core.errors import ConfigError
from nlp.outputs.drafts import render_markdown, write_drafts
from nlp.summarize import ExtractiveDrafter, LLMRewriter, select_clusters, split_sentences

FRAME = pd.DataFrame(
    {
        "编号": ["a1", "a2", "a3", "a4"],
        "内容": [
            "青石村那条路坑坑洼洼好几年了，电话13900001234，希望尽快修一修",
            "我是王建国，青石村的路太烂了，坑坑洼洼没法走",
            "青石村的路坑坑洼洼，孩子上学摔了好几次。请政府修路",
            "医保报销要跑好几趟",
        ],
        "来源": ["接待日", "12345", "扫码", "扫码"],
        "地点": ["青石村", "青石村", "青石村", "东关社区"],
        "日期": ["2024-07-01", "2024-08-01", "2024-09-01", "2024-09-02"],
    }
)


@pytest.fixture(scope="module")
def result():
    return Pipeline().run(InputTable.from_frame(FRAME))


def road(result):
    cid = result.opinions.loc[0, "cluster"]
    return result.clusters.set_index("cluster", drop=False).loc[cid], result.opinions[
        result.opinions["cluster"] == cid
    ]


def test_draft_cites_sources_of_the_cluster_and_leaks_nothing(result):
    cluster, members = road(result)
    draft = ExtractiveDrafter().draft(cluster, members)
    assert (
        draft.title.startswith("关于")
        and draft.title.endswith("的建议")
        and "青石村" in draft.title
    )
    cited = draft.sections["存在问题"] + draft.sections["群众诉求"]
    assert cited and all(c.sources and set(c.sources) <= set(members["id"]) for c in cited)
    # Residents' words are quoted.
    assert all(c.text.count("“") == 1 for c in draft.sections["存在问题"])
    demands = [c.text for c in draft.sections["群众诉求"]]
    assert "尽快修一修（1人次）" in demands and "修路（1人次）" in demands
    assert "3条" in draft.sections["基本情况"] and "接待日" in draft.sections["基本情况"]
    assert "2024-07-01至2024-09-01" in draft.sections["基本情况"]
    assert draft.sections["承办单位"] == "交通运输局" and draft.sources == ["a1", "a2", "a3"]
    assert "分布" not in draft.sections and not draft.review  # one place
    text = render_markdown(draft)
    assert not re.search(r"1[3-9]\d{9}", text) and "王建国" not in text


def test_pipeline_drafts_clusters_chosen_by_selection(result):
    drafted = [d.cluster for d in result.drafts]  # auto: 2+ distinct opinions, or urgent
    assert (
        result.opinions.loc[0, "cluster"] in drafted
        and result.opinions.loc[3, "cluster"] not in drafted
    )
    assert len(select_clusters(result.clusters, result.opinions, "all")) == len(result.clusters)
    assert (
        select_clusters(result.clusters, result.opinions, "top 1")
        == result.clusters["cluster"].head(1).tolist()
    )
    assert select_clusters(result.clusters, result.opinions, "none") == []
    with pytest.raises(ConfigError, match="unknown cluster"):
        select_clusters(result.clusters, result.opinions, "C1999Q1-0001")


def test_write_drafts_writes_markdown_docx_and_jsonl(result, tmp_path):
    written = write_drafts(result.drafts, tmp_path)
    cid = result.drafts[0].cluster
    assert (tmp_path / "drafts" / f"{cid}.md").read_text(encoding="utf-8").startswith("# 关于")
    from docx import Document

    doc = Document(str(tmp_path / "drafts" / f"{cid}.docx"))
    headings = [p.text for p in doc.paragraphs if p.style.name.startswith("Heading")]
    assert headings[:4] == ["基本情况", "存在问题", "群众诉求", "建议"]
    texts = [p.text for p in doc.paragraphs]
    first_suggestion = texts[texts.index("建议") + 1]
    assert first_suggestion.startswith("1. ")  # numbering restarts in each section
    line = json.loads(written["drafts_jsonl"].read_text(encoding="utf-8").splitlines()[0])
    assert (
        set(line) >= {"cluster", "title", "sections", "sources", "scores"}
        and line["cluster"] == cid
    )


def test_a_word_draft_defines_every_style_it_names_and_few_others(result, tmp_path):
    import re
    import zipfile

    write_drafts(result.drafts[:1], tmp_path)
    with zipfile.ZipFile(tmp_path / "drafts" / f"{result.drafts[0].cluster}.docx") as package:
        # Word 2010's own copy of the styles (438 KB) and the blank page's thumbnail are left out.
        assert not [
            name for name in package.namelist() if "WithEffects" in name or "thumbnail" in name
        ]
        assert (
            "WithEffects"
            not in package.read("word/_rels/document.xml.rels").decode()
            + package.read("[Content_Types].xml").decode()
        )
        parts = {
            name: package.read(name).decode("utf-8")
            for name in package.namelist()
            if name.endswith(".xml")
        }
    defined = set(re.findall(r'w:styleId="([^"]+)"', parts["word/styles.xml"]))
    named = {
        m
        for text in parts.values()
        for m in re.findall(
            r'<w:(?:pStyle|rStyle|tblStyle|basedOn|link|next) w:val="([^"]+)"', text
        )
    }
    assert {"Title", "Heading1", "TableGrid"} <= named and named <= defined
    assert len(defined) < 20  # python-docx's blank document defines 164
    normal = re.search(r'w:styleId="Normal".*?</w:style>', parts["word/styles.xml"], re.S).group()
    assert 'w:eastAsia="仿宋"' in normal and '<w:sz w:val="28"/>' in normal  # 14 pt


def test_word_drafts_written_one_after_another_hold_only_their_own_content(result, tmp_path):
    import threading
    import zipfile
    from dataclasses import replace

    from nlp.outputs.drafts import write_docx

    first, second = result.drafts[0], replace(result.drafts[-1], title="第二份建议", cluster="C-2")
    write_docx(first, tmp_path / "first.docx")
    write_docx(second, tmp_path / "second.docx")  # this thread's document, emptied
    alone = threading.Thread(
        target=write_docx, args=(second, tmp_path / "alone.docx")
    )  # a fresh one
    alone.start()
    alone.join()

    def body(name):
        with zipfile.ZipFile(tmp_path / name) as package:
            return package.read("word/document.xml").decode("utf-8")

    assert body("second.docx") == body("alone.docx")
    assert first.title in body("first.docx") and first.title not in body("second.docx")
    assert body("second.docx").count("<w:sectPr") == 1


def test_many_drafts_are_written_by_worker_processes_as_by_one(result, tmp_path, monkeypatch):
    from dataclasses import replace

    from docx import Document

    import nlp.outputs.drafts as drafts_module

    monkeypatch.setattr(drafts_module, "PARALLEL_FROM", 2)
    monkeypatch.setattr(drafts_module, "_PER_TASK", 2)
    pools = []

    class Pool(drafts_module.ProcessPoolExecutor):  # a real pool, counted
        def __init__(self, workers, **kwargs):
            pools.append(workers)
            super().__init__(workers, **kwargs)

    monkeypatch.setattr(drafts_module, "ProcessPoolExecutor", Pool)
    drafts = [
        replace(d, cluster=f"{d.cluster}-{k}") for k in range(3) for d in result.drafts
    ]  # more than one task
    write_drafts(drafts, tmp_path / "one", workers=1)
    write_drafts(drafts, tmp_path / "two", workers=2)
    assert pools == [2]  # only the second run used processes
    for d in drafts:
        one, two = (
            Document(str(tmp_path / run / "drafts" / f"{d.cluster}.docx")) for run in ("one", "two")
        )
        assert [p.text for p in two.paragraphs] == [p.text for p in one.paragraphs] and len(
            one.paragraphs
        ) > 8
        cells = [[c.text for row in doc.tables[0].rows for c in row.cells] for doc in (one, two)]
        assert cells[0] == cells[1] and d.cluster in cells[0]


def test_word_drafts_are_written_while_the_tables_are_and_stop_if_the_tables_fail(
    result, tmp_path, monkeypatch
):
    import multiprocessing
    from dataclasses import replace

    import nlp.outputs.drafts as drafts_module
    import nlp.outputs.writers as writers_module

    monkeypatch.setattr(drafts_module, "PARALLEL_FROM", 2)
    monkeypatch.setattr(drafts_module, "_PER_TASK", 2)
    many = replace(
        result,
        drafts=[replace(d, cluster=f"{d.cluster}-{k}") for k in range(6) for d in result.drafts],
    )
    tables = writers_module._write_tables
    busy = []

    def write_tables(*args):
        busy.append(len(multiprocessing.active_children()))
        tables(*args)

    monkeypatch.setattr(writers_module, "_write_tables", write_tables)
    written = writers_module.write_outputs(many, tmp_path / "ok")
    assert busy[0] >= 2  # the Word files' workers were running while the tables were written
    assert {"csv", "xlsx", "drafts", "drafts_jsonl"} <= set(written)
    assert sorted(p.stem for p in (tmp_path / "ok" / "drafts").glob("*.docx")) == sorted(
        d.cluster for d in many.drafts
    )

    def fail(*args):
        raise OSError("disk full")

    monkeypatch.setattr(writers_module, "_write_tables", fail)
    with pytest.raises(OSError, match="disk full"):
        writers_module.write_outputs(many, tmp_path / "failed")
    assert multiprocessing.active_children() == []  # the workers were stopped
    assert not (tmp_path / "failed" / "drafts.jsonl").exists()


class _Model(BaseHTTPRequestHandler):
    reply: str = ""
    status = 200
    seen: list = []

    def do_POST(self):
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        type(self).seen.append((self.headers.get("Authorization"), body["model"]))
        self.send_response(self.status)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(
            json.dumps(
                {"choices": [{"message": {"content": self.reply}}]}, ensure_ascii=False
            ).encode()
        )

    def log_message(self, *args):
        pass


@pytest.fixture
def model_server():
    server = HTTPServer(("127.0.0.1", 0), _Model)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}/v1"
    server.shutdown()


def test_llm_rewrite_is_used_when_its_facts_check_out(result, model_server):
    cluster, members = road(result)
    _Model.status, _Model.seen = 200, []
    _Model.reply = json.dumps(
        {
            "title": "关于尽快修复青石村道路的建议",
            "基本情况": "近期共收到群众意见3条，反映青石村道路破损。",
            "建议": ["请交通运输局尽快修复。"],
        },
        ensure_ascii=False,
    )
    draft = LLMRewriter(model_server, "local-model", api_key="k").draft(cluster, members)
    assert draft.title == "关于尽快修复青石村道路的建议" and draft.sections["建议"] == [
        "请交通运输局尽快修复。"
    ]
    assert _Model.seen == [("Bearer k", "local-model")]
    assert draft.sections["存在问题"] and "rewritten" in draft.notes[-1]


def test_llm_rewrite_with_invented_facts_is_rejected(result, model_server, caplog):
    cluster, members = road(result)
    _Model.status = 200
    _Model.reply = (
        "```json\n"
        + json.dumps(
            {"title": "关于修复柳湾村道路的建议", "基本情况": "共有99户受影响。", "建议": ["修路"]},
            ensure_ascii=False,
        )
        + "\n```"
    )
    draft = LLMRewriter(model_server, "m").draft(cluster, members)
    assert (
        "青石村" in draft.title
        and "99" in draft.notes[-1]
        and "rewrite not used" in draft.notes[-1]
    )
    assert any("99" in r.getMessage() for r in caplog.records)  # the reason is logged too


def test_llm_failure_keeps_the_extractive_draft(result):
    cluster, members = road(result)
    draft = LLMRewriter("http://127.0.0.1:9/v1", "m", timeout=2).draft(cluster, members)
    assert "model call failed" in draft.notes[-1] and draft.title.startswith("关于")


def test_merging_near_identical_sentences_matches_comparing_every_pair():
    # Only kept sentences that share one of a sentence's rarest character pairs are compared; the
    # result must be the one comparing every pair in order gives.
    import random

    from nlp.summarize.draft import _bigrams, _merge

    def every_pair(sentences):
        merged, kept = [], []
        for text, source, position in sentences:
            grams = _bigrams(text)
            for k, other in enumerate(kept):
                if grams and other and len(grams & other) / len(grams | other) >= 0.6:
                    if source not in merged[k][1]:
                        merged[k][1].append(source)
                    break
            else:
                merged.append((text, [source], position))
                kept.append(grams)
        return merged

    rng = random.Random(0)
    alphabet = list("暖气不热屋里才十五度路坑洼村道破损修了停")
    merges = 0
    for _ in range(500):
        base = [
            "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12)))
            for _ in range(rng.randint(1, 6))
        ]
        sentences = []
        for _ in range(rng.randint(0, 40)):
            text = "".join(c for c in rng.choice(base) if rng.random() > 0.15) + "".join(
                rng.choice(alphabet) for _ in range(rng.randint(0, 3))
            )
            sentences.append((text, str(rng.randint(0, 10)), rng.randint(0, 5)))
        expected = every_pair(sentences)
        assert [(c.text, c.sources, c.count, p) for c, p in _merge(sentences)] == [
            (t, s, len(s), p) for t, s, p in expected
        ]
        merges += len(sentences) - len(expected)
    assert merges > 1000  # the sentences were near enough to merge often


def _row(cluster="C1", level1="环境保护", level2="施工噪音", department="生态环境局", **more):
    """A row of the clusters table, as the pipeline describes a cluster."""
    row = {
        "cluster": cluster,
        "people": 0,
        "level1": level1,
        "level2": level2,
        "department": department,
        "sources": "",
        "first_seen": "2024-05-01",
        "last_seen": "2024-06-20",
        "weekly_counts": "",
        "urgency": 0.4,
        "urgency_why": "说明",
        "importance": 0.5,
        "importance_why": "说明",
    }
    row.update(more)
    return row


NOISE = pd.DataFrame(
    {
        "id": ["n1", "n2", "n3", "n4", "n5"],
        "text": [
            "东岚区桂香苑旁边的工地每天晚上施工到凌晨两点，吵得老人孩子都睡不着。"
            "希望有关部门尽快制止夜间施工，还我们一个安静的环境！",
            "桂香苑旁工地夜里打桩，噪音太大了。请环保局依法查处该工地，责令夜间停工。",
            "根据《噪声污染防治法》规定，禁止夜间进行产生噪声的建筑施工作业，"
            "但抢修、抢险作业和因生产工艺上要求必须连续作业的除外。桂香苑旁的工地天天夜里施工。",
            "桂香苑工地半夜还在施工，你们不作为的底气何在！执法部门都去哪了？",
            "东岚区桂香苑旁边的工地连续一个月夜间施工，严重影响休息，请尽快制止夜间施工。",
        ],
    }
)


def test_demands_are_demands_not_rules_or_anger():
    draft = ExtractiveDrafter().draft(_row(people=5), NOISE)
    demands = [c.text for c in draft.sections["群众诉求"]]
    assert demands and not any(
        word in d for d in demands for word in ("除外", "规定", "底气", "不作为")
    )
    assert demands[0] == "尽快制止夜间施工（2人次）" and draft.sections["群众诉求"][0].sources == [
        "n1",
        "n5",
    ]
    assert any("查处该工地" in d for d in demands)


def test_suggestions_are_written_not_pasted():
    draft = ExtractiveDrafter().draft(_row(people=5), NOISE)
    written = [str(getattr(s, "text", s)) for s in draft.sections["建议"]]
    assert "请生态环境局尽快制止夜间施工。" in written
    sentences = {s.rstrip("。！？") for text in NOISE["text"] for s in split_sentences(text)}
    assert not [s for s in sentences if len(s) >= 8 and any(s in w for w in written)]
    assert all("“" not in w and "针对群众提出的" not in w for w in written)


def test_every_section_states_the_same_facts():
    members = NOISE.assign(id=[f"m{k}" for k in range(5)])
    draft = ExtractiveDrafter().draft(_row(people=4), members)
    situation = draft.sections["基本情况"]
    breadth = draft.sections["紧迫性、广泛性、重要性"][1]
    counts = situation.split("。")[0].split("，", 1)[1]
    stated = {unit: n for n, unit in re.findall(r"(\d+)(人|个地点|条)", counts)}
    assert stated == {
        unit: n for n, unit in re.findall(r"(\d+)(人|个地点|条)", breadth.split("：")[1])
    }
    assert set(stated) == {"人", "个地点", "条"}
    assert draft.facts["opinions"] == 5 and draft.facts["people"] == 4 and "5条" in situation
    assert "渠道" not in situation and "渠道" not in breadth  # the export has no channels
    assert f"{draft.scores['breadth']:.2f}" == breadth.split()[1].split("：")[0]


def test_channels_are_stated_when_the_export_has_them():
    draft = ExtractiveDrafter().draft(_row(people=5, sources="12345:3 接待日:2"), NOISE)
    assert "通过12345、接待日等渠道" in draft.sections["基本情况"]
    assert "2个渠道" in draft.sections["紧迫性、广泛性、重要性"][1]


SITES = pd.DataFrame(
    {
        "id": [f"s{k}" for k in range(6)],
        "text": [
            "A4区伍家岭君悦新天地工地每天违法夜间施工，从晚上十一点到凌晨三点。",
            "A3区学丰路卓越千山里工地日夜施工扰民，希望有关部门制止夜间施工。",
            "A3区东方红街道金南家园三期工地经常通宵施工，噪音很大。",
            "A2区福满新城二期工地夜间施工，严重影响休息。",
            "A1区马王堆地铁站工地超时作业，晚上两三点还有机器声。",
            "A4区伍家岭君悦新天地工地又是通宵施工。",
        ],
    }
)


def test_opinions_about_many_places_get_a_spread_and_a_review_flag():
    draft = ExtractiveDrafter().draft(_row(people=6), SITES)
    assert (
        draft.sections["分布"][0] == "A4区伍家岭君悦新天地工地 2条"
        and len(draft.sections["分布"]) == 5
    )
    assert draft.review and draft.sections["核实提示"] == draft.review
    assert next(iter(draft.sections)) == "核实提示"
    assert draft.title == "关于解决多处噪音扰民问题的建议"  # no place is shared by them all
    assert "5个地点" in draft.sections["基本情况"]


def test_opinions_about_one_place_name_it_and_quote_it_only():
    members = pd.concat([SITES.iloc[[0, 5, 1]], NOISE.iloc[[0, 4]]], ignore_index=True)
    members["text"] = members["text"].str.replace(
        "东岚区桂香苑旁边的工地", "A4区伍家岭君悦新天地工地"
    )
    draft = ExtractiveDrafter().draft(_row(people=5), members)
    assert not draft.review and "君悦新天地" in draft.title
    assert all("君悦新天地" in c.text for c in draft.sections["存在问题"])


def test_quotes_are_masked_again_for_names_the_tagger_missed():
    texts = [
        "聚利公司创始人费刚志、CEO于xiang卷款跑路，出借人损失三亿元。请公安机关对该平台立案侦查。",
        "聚利公司实控人于xiang转移资产，出借人血本无归。请公安机关冻结平台高管的资产。",
    ]
    members = pd.DataFrame({"id": ["p1", "p2"], "text": texts})
    row = _row(level1="政法", level2="社会治安", department="公安局", people=2)
    draft = ExtractiveDrafter().draft(row, members)
    text = render_markdown(draft)
    assert "费刚志" not in text and "于xiang" not in text and "[姓名]" in text


def test_a_draft_from_ids_and_texts_alone_is_the_one_from_the_whole_rows(result):
    import pickle

    cluster, members = road(result)
    drafter = pickle.loads(pickle.dumps(ExtractiveDrafter()))
    whole = ExtractiveDrafter().draft(cluster, members).to_dict()
    assert drafter.draft(cluster, members[["id", "text"]].reset_index(drop=True)).to_dict() == whole


def test_opinions_with_nothing_to_quote_still_get_a_draft():
    members = pd.DataFrame({"id": ["e1", "e2"], "text": ["好", "路"]})
    draft = ExtractiveDrafter().draft(_row(people=2), members)
    assert draft.sections["存在问题"] == [] and draft.sections["群众诉求"] == []
    assert draft.title.endswith("的建议") and "2条" in draft.sections["基本情况"]


def test_a_draft_takes_its_place_from_the_place_column_when_the_words_name_none():
    frame = pd.DataFrame(
        {
            "内容": ["交了取暖费却不暖和，热力公司电话打不通盼回复。"] * 2
            + ["暖气片冰凉，屋里才十二度"],
            "地点": ["松林村", "松林村", "松林村"],
        }
    )
    run = Pipeline().run(InputTable.from_frame(frame))
    cid = run.opinions.loc[0, "cluster"]
    cluster = run.clusters.set_index("cluster", drop=False).loc[cid]
    draft = ExtractiveDrafter().draft(cluster, run.opinions[run.opinions["cluster"] == cid])
    assert "松林村" in draft.title and "热力公司" not in draft.title
    assert "1个地点（松林村）" in draft.sections["基本情况"]
    assert all("，。" not in c.text for c in draft.sections["存在问题"])
