"""The notebooks run from a clean kernel (as in Jupyter) and leave their decisions in the state."""

import json
import math
from pathlib import Path

import nbformat
import pandas as pd
import pytest
from nbclient import NotebookClient

from nlp.clustering.review import Review
from nlp.core.resources import corpus_path

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"

pytestmark = pytest.mark.slow


def execute(name: str, cwd: Path):
    notebook = nbformat.read(NOTEBOOKS / name, as_version=4)
    NotebookClient(
        notebook, timeout=900, kernel_name="python3", resources={"metadata": {"path": str(cwd)}}
    ).execute()
    errors = [
        o
        for cell in notebook.cells
        for o in cell.get("outputs", [])
        if o.get("output_type") == "error"
    ]
    assert not errors
    return notebook


def outputs(notebook, kind: str) -> list[str]:
    return [
        o["data"][kind]
        for cell in notebook.cells
        for o in cell.get("outputs", [])
        if kind in o.get("data", {})
    ]


def test_quarterly_review_notebook_decides_and_the_state_keeps_it(tmp_path, monkeypatch):
    state = tmp_path / "state"
    monkeypatch.setenv("MINYI_STATE", str(state))
    monkeypatch.setenv("MINYI_REVIEWER", "测试指导员")
    notebook = execute("01_quarterly_review.ipynb", tmp_path)
    html = "\n".join(outputs(notebook, "text/html"))
    assert (
        html.count("<svg") >= 5
    )  # class bars, weekly trend, cluster trends, map, the cluster's trend
    assert "application/vnd.jupyter.widget-view+json" in json.dumps(
        [c.get("outputs") for c in notebook.cells]
    )

    review = Review(state)
    log = review.decisions()
    done = log[log["undone_at"].isna()]
    assert done["action"].tolist()[:3] == ["merge", "rename", "mark"] and set(log["who"]) == {
        "测试指导员"
    }
    assert (
        log.iloc[-1]["action"] == "mark" and log.iloc[-1]["undone_at"] is not None
    )  # the undone status
    keep, other = log.iloc[0]["args"]["clusters"]
    listed = review.clusters(limit=1000).set_index("cluster")
    assert other not in listed.index and listed.loc[keep, "title"].endswith("问题（合并）")
    assert listed.loc[keep, "status"] == "待核实"  # the mistaken 不予处理 was undone
    assert (listed["status"] == "已核实").sum() == 1
    assert "relabel" in set(done["action"]) and review.store.reviewed_examples()[
        "level1"
    ].tolist() == ["城乡建设"]
    drafts = sorted(p.suffix for p in (state / "drafts").iterdir())
    assert drafts.count(".md") == 5 and drafts.count(".docx") == 5


def test_quality_notebook_measures_the_classifiers(tmp_path, monkeypatch):
    monkeypatch.setenv("MINYI_QUALITY_OUT", str(tmp_path / "quality"))
    notebook = execute("02_quality.ipynb", tmp_path)
    reports = json.loads((tmp_path / "quality" / "quality.json").read_text(encoding="utf-8"))
    assert set(reports) == {"keyword rules", "minyi train (70% of the corpus)"}
    held_out = math.ceil(
        0.3 * len(pd.read_csv(corpus_path("training_opinions.csv")))
    )  # the notebook's test_size
    for report in reports.values():
        assert (
            report["rows"] == held_out
            and 0.3 < report["macro_f1"] <= 1
            and len(report["per_class"]) == 15
        )
    assert sum("<svg" in h for h in outputs(notebook, "text/html")) == 2  # one heat map per model
