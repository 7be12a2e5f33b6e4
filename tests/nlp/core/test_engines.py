"""The per-row stages and the drafts on worker processes and on a Dask LocalCluster give the same
results as inline."""

import pandas as pd
import pytest

from nlp import Pipeline, PipelineConfig, read_table
from nlp.pipeline import pipeline as pipeline_module
from nlp.core.engines import make_engine
from nlp.core.resources import corpus_path

pytestmark = pytest.mark.slow

CONFIG = PipelineConfig(block_size=80, drafts="all")  # 320 rows: four blocks


@pytest.fixture(scope="module")
def inline():
    return Pipeline(CONFIG).run(read_table(corpus_path("sample_opinions.csv")))


@pytest.mark.parametrize("name", ["local", "dask"])
def test_engines_give_identical_results(inline, name, monkeypatch):
    pytest.importorskip("distributed") if name == "dask" else None
    # Drafts on the workers too, a few clusters a task.
    monkeypatch.setattr(pipeline_module, "PARALLEL_DRAFTS", 2)
    monkeypatch.setattr(pipeline_module, "DRAFTS_PER_TASK", 5)
    engine = make_engine(name, workers=2)
    ran = []
    starmap = engine.starmap
    monkeypatch.setattr(engine, "starmap", lambda function, jobs: ran.append(function.__name__) or starmap(function, jobs))
    try:
        if name == "dask":
            assert len(engine.client.scheduler_info()["workers"]) == 2
        result = Pipeline(CONFIG).run(read_table(corpus_path("sample_opinions.csv")), engine=engine)
    finally:
        engine.close()
    assert ran == ["run_block", "draft_many"]
    pd.testing.assert_frame_equal(result.opinions, inline.opinions)
    pd.testing.assert_frame_equal(result.clusters, inline.clusters)
    assert result.summary["status"] == inline.summary["status"]
    assert len(inline.drafts) > 2 * 5
    assert [d.to_dict() for d in result.drafts] == [d.to_dict() for d in inline.drafts]
    # The drafts list the table's own id strings, not the copies the workers sent back.
    table = result.opinions
    for d in result.drafts:
        ids = table.loc[(table["cluster"] == d.cluster) & (table["status"] == "ok"), "id"].tolist()
        assert d.sources == ids and all(a is b for a, b in zip(d.sources, ids)) and d.sections["附"] is d.sources


def test_unknown_engine_is_refused():
    from nlp.core.errors import ConfigError

    with pytest.raises(ConfigError, match="not 'local'"):
        make_engine("spark")
