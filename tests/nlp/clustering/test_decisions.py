"""Review decisions as commands over the repository: each kind is undone to the state before it,
and the review itself writes no SQL."""

import ast
from pathlib import Path

import numpy as np
import pytest
import sqlalchemy as sa

from nlp.clustering import db
from nlp.clustering.review import Review
from nlp.clustering.store import ClusterStore

NLP = Path(__file__).resolve().parents[3] / "nlp"

# Each kind of decision (the first word), as a reviewer makes it on the small state of conftest.py.
DECISIONS = {
    "merge": lambda r, s: r.merge(s.road, s.lift, s.heat, why="同一批"),
    "split": lambda r, s: r.split(s.road, ["R3"], title="村道积水"),
    "split off a duplicate": lambda r, s: r.split(s.road, [1]),
    "move": lambda r, s: r.move(["ext:R1"], s.heat),
    "rename": lambda r, s: r.rename(s.road, "青石村道路破损"),
    "relabel on a cluster": lambda r, s: r.relabel(s.heat, "城乡建设", "供暖"),
    "relabel on opinions": lambda r, s: r.relabel(["L1", "H1"], "城乡建设", "电梯"),
    "set_department on a cluster": lambda r, s: r.set_department(s.lift, "物业办"),
    "set_department on opinions": lambda r, s: r.set_department([3], "镇政府"),
    "mark": lambda r, s: r.mark(s.lift, "已办结", why="已修好"),
}


def tables(store: ClusterStore) -> dict:
    """Every row that decisions change (``updated_at`` aside), centroids as arrays."""
    c, o = db.clusters.c, db.opinions.c
    with store.engine.connect() as conn:
        clusters = {
            r.id: {**r._asdict(), "centroid": np.frombuffer(r.centroid, dtype=np.float32)}
            for r in conn.execute(sa.select(*(k for k in c if k.name != "updated_at")))
        }
        members = dict(
            conn.execute(sa.select(db.members.c.text_key, db.members.c.cluster_id)).all()
        )
        columns = (o.id, o.cluster_id, o.reviewed_level1, o.reviewed_level2, o.reviewed_department)
        opinions = [tuple(r) for r in conn.execute(sa.select(*columns).order_by(o.id))]
    return {"clusters": clusters, "members": members, "opinions": opinions}


def assert_same(after: dict, before: dict) -> None:
    assert after["members"] == before["members"] and after["opinions"] == before["opinions"]
    assert set(after["clusters"]) == set(before["clusters"])
    for cluster, row in before["clusters"].items():
        now = dict(after["clusters"][cluster])
        np.testing.assert_allclose(now.pop("centroid"), row["centroid"], atol=1e-6)
        assert now == {k: v for k, v in row.items() if k != "centroid"}, cluster


@pytest.mark.parametrize("kind", list(DECISIONS))
def test_undo_of_each_kind_of_decision_restores_the_cluster_state(small_state, kind):
    review = Review(small_state.store, who="测试")
    before = tables(small_state.store)
    DECISIONS[kind](review, small_state)
    with pytest.raises(AssertionError):
        assert_same(tables(small_state.store), before)  # the decision changed something
    undone = review.undo(why="试一试")
    assert undone["action"] == kind.split()[0] and undone["undone_at"] is None  # as it was
    assert_same(tables(small_state.store), before)
    log = review.decisions()
    assert len(log) == 1 and log.loc[0, "undone_by"] == "测试: 试一试"
    assert review.undo() is None


def test_undo_keeps_opinions_that_joined_after_the_decision(small_state):
    s = small_state
    review = Review(s.store)
    review.merge(s.road, s.lift)
    # A later run adds an opinion to the merged cluster: the undo takes back only the merge.
    s.store.add_many([(s.road, "t-later", s.unit((1, 1, 0)), {"青石村"})])
    review.undo()
    assert s.store.known(["t-later", "t-lift"]) == {"t-later": s.road, "t-lift": s.lift}
    centroid = np.frombuffer(s.store.cluster_row(s.road).centroid, dtype=np.float32)
    expected = s.unit((1, 0, 0)) + s.unit((0.8, 0.6, 0)) + s.unit((1, 1, 0))  # one per key
    np.testing.assert_allclose(centroid, expected, atol=1e-6)
    assert s.store.cluster_row(s.road).size == 3 and s.store.cluster_row(s.lift).merged_into is None


def test_decisions_are_logged_with_their_arguments_and_rows_as_keys(small_state):
    s = small_state
    review = Review(s.store, who="王")
    new = review.split(s.road, [3], title="村道积水", why="另一段路")
    review.relabel([4], "城乡建设", "电梯")
    log = review.decisions()
    assert log["action"].tolist() == ["split", "relabel"] and set(log["who"]) == {"王"}
    assert log.loc[0, "args"] == {"cluster": s.road, "rows": ["ext:R3"], "title": "村道积水"}
    assert log.loc[1, "args"] == {
        "target": {"rows": ["ext:L1"]},
        "level1": "城乡建设",
        "level2": "电梯",
    }
    assert new == "C2024Q3-0004" and review.opinions(new)["external_id"].tolist() == ["R3"]


def _imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            found.add(node.module or "")
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("module", ["review.py", "commands.py"])
def test_review_writes_no_sql_and_draws_no_charts(module):
    imports = _imports(NLP / "clustering" / module)
    assert not {
        i for i in imports if i.startswith(("sqlalchemy", "nlp.clustering.db", "nlp.outputs"))
    }


def test_only_the_repository_talks_to_the_database():
    repository = {"db.py", "store.py", "opinions.py", "decisions.py", "retention.py"}
    talking = {
        str(path.relative_to(NLP))
        for path in NLP.rglob("*.py")
        if "migrations" not in path.parts
        and any(i.startswith(("sqlalchemy", "nlp.clustering.db")) for i in _imports(path))
    }
    assert talking == {f"clustering/{name}" for name in repository}
