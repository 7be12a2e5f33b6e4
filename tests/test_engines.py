"""The per-row stages on worker processes and on a Dask LocalCluster give the same results as inline."""

import pandas as pd
import pytest

from nlp import Pipeline, PipelineConfig, read_table
from nlp.engines import make_engine
from nlp.resources import corpus_path

pytestmark = pytest.mark.slow

CONFIG = PipelineConfig(block_size=80, drafts="none")  # 320 rows: four blocks


@pytest.fixture(scope="module")
def inline():
    return Pipeline(CONFIG).run(read_table(corpus_path("sample_opinions.csv")))


@pytest.mark.parametrize("name", ["local", "dask"])
def test_engines_give_identical_results(inline, name):
    pytest.importorskip("distributed") if name == "dask" else None
    engine = make_engine(name, workers=2)
    try:
        if name == "dask":
            assert len(engine.client.scheduler_info()["workers"]) == 2
        result = Pipeline(CONFIG).run(read_table(corpus_path("sample_opinions.csv")), engine=engine)
    finally:
        engine.close()
    pd.testing.assert_frame_equal(result.opinions, inline.opinions)
    pd.testing.assert_frame_equal(result.clusters, inline.clusters)
    assert result.summary["status"] == inline.summary["status"]


def test_unknown_engine_is_refused():
    from nlp.errors import ConfigError

    with pytest.raises(ConfigError, match="not 'local'"):
        make_engine("spark")
