import json
import re
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pandas as pd
import pytest

from nlp import InputTable, Pipeline
from nlp.core.errors import ConfigError
from nlp.outputs.drafts import render_markdown, write_drafts
from nlp.summarize import ExtractiveDrafter, LLMRewriter, select_clusters

FRAME = pd.DataFrame({
    "编号": ["a1", "a2", "a3", "a4"],
    "内容": ["青石村那条路坑坑洼洼好几年了，电话13900001234，希望尽快修一修", "我是王建国，青石村的路太烂了，坑坑洼洼没法走",
             "青石村的路坑坑洼洼，孩子上学摔了好几次。请政府修路", "医保报销要跑好几趟"],
    "来源": ["接待日", "12345", "扫码", "扫码"],
    "地点": ["青石村", "青石村", "青石村", "东关社区"],
    "日期": ["2024-07-01", "2024-08-01", "2024-09-01", "2024-09-02"],
})  # fmt: skip


@pytest.fixture(scope="module")
def result():
    return Pipeline().run(InputTable.from_frame(FRAME))


def road(result):
    cid = result.opinions.loc[0, "cluster"]
    return result.clusters.set_index("cluster", drop=False).loc[cid], result.opinions[result.opinions["cluster"] == cid]


def test_draft_cites_sources_of_the_cluster_and_leaks_nothing(result):
    cluster, members = road(result)
    draft = ExtractiveDrafter().draft(cluster, members)
    assert draft.title.startswith("关于") and draft.title.endswith("的建议") and "青石村" in draft.title
    cited = draft.sections["存在问题"] + draft.sections["群众诉求"]
    assert cited and all(c.sources and set(c.sources) <= set(members["id"]) for c in cited)
    assert all(c.text.count("“") == 1 for c in cited)  # residents' words are quoted
    problems = {c.text.split("“")[1] for c in draft.sections["存在问题"]}
    demands = {c.text.split("“")[1] for c in draft.sections["群众诉求"]}
    assert not problems & demands and any("希望尽快修一修" in d for d in demands)
    assert "3条" in draft.sections["基本情况"] and "接待日" in draft.sections["基本情况"]
    assert "2024-07-01至2024-09-01" in draft.sections["基本情况"]
    assert draft.sections["承办单位"] == "交通运输局" and draft.sources == ["a1", "a2", "a3"]
    text = render_markdown(draft)
    assert not re.search(r"1[3-9]\d{9}", text) and "王建国" not in text


def test_pipeline_drafts_clusters_chosen_by_selection(result):
    drafted = [d.cluster for d in result.drafts]  # auto: 2+ distinct opinions, or urgent
    assert result.opinions.loc[0, "cluster"] in drafted and result.opinions.loc[3, "cluster"] not in drafted
    assert len(select_clusters(result.clusters, result.opinions, "all")) == len(result.clusters)
    assert select_clusters(result.clusters, result.opinions, "top 1") == result.clusters["cluster"].head(1).tolist()
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
    assert set(line) >= {"cluster", "title", "sections", "sources", "scores"} and line["cluster"] == cid


def test_a_word_draft_defines_every_style_it_names_and_few_others(result, tmp_path):
    import re
    import zipfile

    write_drafts(result.drafts[:1], tmp_path)
    with zipfile.ZipFile(tmp_path / "drafts" / f"{result.drafts[0].cluster}.docx") as package:
        # Word 2010's own copy of the styles (438 KB) and the blank page's thumbnail are left out.
        assert not [name for name in package.namelist() if "WithEffects" in name or "thumbnail" in name]
        assert "WithEffects" not in package.read("word/_rels/document.xml.rels").decode() + package.read("[Content_Types].xml").decode()
        parts = {name: package.read(name).decode("utf-8") for name in package.namelist() if name.endswith(".xml")}
    defined = set(re.findall(r'w:styleId="([^"]+)"', parts["word/styles.xml"]))
    named = {m for text in parts.values() for m in re.findall(r'<w:(?:pStyle|rStyle|tblStyle|basedOn|link|next) w:val="([^"]+)"', text)}
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
    alone = threading.Thread(target=write_docx, args=(second, tmp_path / "alone.docx"))  # a fresh one
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
    drafts = [replace(d, cluster=f"{d.cluster}-{k}") for k in range(3) for d in result.drafts]  # more than one task
    write_drafts(drafts, tmp_path / "one", workers=1)
    write_drafts(drafts, tmp_path / "two", workers=2)
    assert pools == [2]  # only the second run used processes
    for d in drafts:
        one, two = (Document(str(tmp_path / run / "drafts" / f"{d.cluster}.docx")) for run in ("one", "two"))
        assert [p.text for p in two.paragraphs] == [p.text for p in one.paragraphs] and len(one.paragraphs) > 8
        cells = [[c.text for row in doc.tables[0].rows for c in row.cells] for doc in (one, two)]
        assert cells[0] == cells[1] and d.cluster in cells[0]


def test_word_drafts_are_written_while_the_tables_are_and_stop_if_the_tables_fail(result, tmp_path, monkeypatch):
    import multiprocessing
    from dataclasses import replace

    import nlp.outputs.drafts as drafts_module
    import nlp.outputs.writers as writers_module

    monkeypatch.setattr(drafts_module, "PARALLEL_FROM", 2)
    monkeypatch.setattr(drafts_module, "_PER_TASK", 2)
    many = replace(result, drafts=[replace(d, cluster=f"{d.cluster}-{k}") for k in range(6) for d in result.drafts])
    tables = writers_module._write_tables
    busy = []

    def write_tables(*args):
        busy.append(len(multiprocessing.active_children()))
        tables(*args)

    monkeypatch.setattr(writers_module, "_write_tables", write_tables)
    written = writers_module.write_outputs(many, tmp_path / "ok")
    assert busy[0] >= 2  # the Word files' workers were running while the tables were written
    assert {"csv", "xlsx", "drafts", "drafts_jsonl"} <= set(written)
    assert sorted(p.stem for p in (tmp_path / "ok" / "drafts").glob("*.docx")) == sorted(d.cluster for d in many.drafts)

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
        self.wfile.write(json.dumps({"choices": [{"message": {"content": self.reply}}]}, ensure_ascii=False).encode())

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
    _Model.reply = json.dumps({"title": "关于尽快修复青石村道路的建议", "基本情况": "近期共收到群众意见3条，反映青石村道路破损。", "建议": ["请交通运输局尽快修复。"]}, ensure_ascii=False)
    draft = LLMRewriter(model_server, "local-model", api_key="k").draft(cluster, members)
    assert draft.title == "关于尽快修复青石村道路的建议" and draft.sections["建议"] == ["请交通运输局尽快修复。"]
    assert _Model.seen == [("Bearer k", "local-model")]
    assert draft.sections["存在问题"] and "rewritten" in draft.notes[-1]


def test_llm_rewrite_with_invented_facts_is_rejected(result, model_server, caplog):
    cluster, members = road(result)
    _Model.status = 200
    _Model.reply = "```json\n" + json.dumps({"title": "关于修复柳湾村道路的建议", "基本情况": "共有99户受影响。", "建议": ["修路"]}, ensure_ascii=False) + "\n```"
    draft = LLMRewriter(model_server, "m").draft(cluster, members)
    assert "青石村" in draft.title and "99" in draft.notes[-1] and "rewrite not used" in draft.notes[-1]
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
        base = ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 12))) for _ in range(rng.randint(1, 6))]
        sentences = []
        for _ in range(rng.randint(0, 40)):
            text = "".join(c for c in rng.choice(base) if rng.random() > 0.15) + "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 3)))
            sentences.append((text, str(rng.randint(0, 10)), rng.randint(0, 5)))
        expected = every_pair(sentences)
        assert [(c.text, c.sources, c.count, p) for c, p in _merge(sentences)] == [(t, s, len(s), p) for t, s, p in expected]
        merges += len(sentences) - len(expected)
    assert merges > 1000  # the sentences were near enough to merge often
