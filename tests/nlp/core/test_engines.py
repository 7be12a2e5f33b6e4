"""Engines map a function over items in order; the per-row stages and the drafts on worker
processes and on a Dask LocalCluster give the same results as inline."""

import ast
import operator
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nlp import Pipeline, PipelineConfig, read_table
from nlp.core import engines
from nlp.core.engines import ProcessEngine, make_engine
from nlp.core.resources import corpus_path
from nlp.pipeline import drafting

ROOT = Path(engines.__file__).resolve().parents[2]
pytestmark = pytest.mark.slow

CONFIG = PipelineConfig(block_size=80, drafts="all")  # 320 rows: four blocks


@pytest.fixture(scope="module")
def inline():
    return Pipeline(CONFIG).run(read_table(corpus_path("sample_opinions.csv")))


@pytest.mark.parametrize("name", ["local", "dask"])
def test_engines_give_identical_results(inline, name, monkeypatch):
    pytest.importorskip("distributed") if name == "dask" else None
    # Drafts on the workers too, a few clusters a task.
    monkeypatch.setattr(drafting, "PARALLEL_DRAFTS", 2)
    monkeypatch.setattr(drafting, "DRAFTS_PER_TASK", 5)
    engine = make_engine(name, workers=2)
    ran = []
    starmap = engine.starmap

    def recorded(function, jobs):
        ran.append(function.__name__)
        return starmap(function, jobs)

    monkeypatch.setattr(engine, "starmap", recorded)
    try:
        if name == "dask":
            assert len(engine.client.scheduler_info()["workers"]) == 2
        result = Pipeline(CONFIG).run(read_table(corpus_path("sample_opinions.csv")), engine=engine)
    finally:
        engine.close()
    assert ran == ["run_block", "draft_many"]
    # The default classifier learnt from the input once, in this process; the workers were sent
    # what it learnt and classified every block by it.
    assert inline.summary["classifier"]["self_trained_on_rows"] >= 200
    assert result.summary["classifier"] == inline.summary["classifier"]
    pd.testing.assert_frame_equal(result.opinions, inline.opinions)
    pd.testing.assert_frame_equal(result.clusters, inline.clusters)
    assert result.summary["status"] == inline.summary["status"]
    assert len(inline.drafts) > 2 * 5
    assert [d.to_dict() for d in result.drafts] == [d.to_dict() for d in inline.drafts]
    # The drafts list the table's own id strings, not the copies the workers sent back.
    table = result.opinions
    for d in result.drafts:
        ids = table.loc[(table["cluster"] == d.cluster) & (table["status"] == "ok"), "id"].tolist()
        assert (
            d.sources == ids
            and all(a is b for a, b in zip(d.sources, ids))
            and d.sections["附"] is d.sources
        )


def test_unknown_engine_is_refused():
    from nlp.core.errors import ConfigError

    with pytest.raises(ConfigError, match="not 'local'"):
        make_engine("spark")


def test_process_engine_maps_a_function_over_items_in_order():
    engine = ProcessEngine(2)
    try:
        assert list(engine.map(operator.neg, range(9))) == [-i for i in range(9)]
        powers = engine.starmap(operator.pow, [(2, k) for k in range(9)])
        assert list(powers) == [2**k for k in range(9)]
    finally:
        engine.close()


def _scaled(sent, k: int) -> int:
    return engines.received(sent)["factor"] * k


@pytest.mark.parametrize("name", ["local", "dask"])
def test_a_value_sent_once_reaches_every_worker(name):
    pytest.importorskip("distributed") if name == "dask" else None
    engine = make_engine(name, workers=2)
    try:
        sent = engine.send({"factor": 3})
        assert list(engine.starmap(_scaled, [(sent, k) for k in range(8)])) == [
            3 * k for k in range(8)
        ]
        again = engine.send({"factor": 5})  # a later run's value replaces it
        assert list(engine.starmap(_scaled, [(again, k) for k in range(4)])) == [
            5 * k for k in range(4)
        ]
    finally:
        engine.close()
    # In this process (no engine) a job passes the value itself.
    assert _scaled({"factor": 2}, 4) == 8


def test_engines_import_nothing_of_the_pipeline_or_the_config():
    imported = set()
    for node in ast.walk(ast.parse(Path(engines.__file__).read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            imported.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    assert {name for name in imported if name.split(".")[0] == "nlp"} == {"nlp.core.errors"}
    # Imported on their own (the package's __init__, which loads the pipeline, left out), the
    # engines load no other module of the project than the errors.
    code = f"""
import sys, types
for name, folder in (("nlp", {str(ROOT / "nlp")!r}), ("nlp.core", {str(ROOT / "nlp" / "core")!r})):
    sys.modules[name] = types.ModuleType(name)
    sys.modules[name].__path__ = [folder]
import nlp.core.engines
print(sorted(m for m in sys.modules if m.startswith("nlp.")))
"""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "['nlp.core', 'nlp.core.engines', 'nlp.core.errors']"
