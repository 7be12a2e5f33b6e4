"""A review panel for Jupyter (ipywidgets): pick a cluster, read it, decide.

Every button calls a plain method of :class:`nlp.clustering.review.Review` (``mark``, ``rename``,
``relabel``, ``undo``), so whatever the panel does can also be written as a call, and notebooks run
headless. Needs the ``notebook`` extra.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from nlp.clustering.describe import STATUSES
from nlp.core.errors import MinyiError, NotInstalledError
from nlp.outputs.charts import weekly_trend_svg

if TYPE_CHECKING:
    from nlp.clustering.review import ClusterView, Review

__all__ = ["cluster_html", "review_panel"]


def cluster_html(view: ClusterView) -> str:
    """A cluster of :meth:`Review.cluster` as HTML: its description, its weekly trend as a chart,
    and its first members."""
    return view.html(weekly_trend_svg(view.trend, title="每周意见数"))


def review_panel(review: Review, *, limit: int = 50, **where):
    """A widget over the ``limit`` hottest clusters matching ``where`` (see :meth:`Review.clusters`)."""
    try:
        import ipywidgets as w
        from IPython.display import HTML, display
    except ImportError as e:
        raise NotInstalledError("the review panel", "ipywidgets", "notebook") from e

    def options():
        found = review.clusters(limit=limit, **where)
        return [
            (f"{r.cluster} · {r.status} · {r.size}条 · {str(r.title)[:24]}", r.cluster)
            for r in found.itertuples()
        ]

    picker = w.Dropdown(options=options(), description="问题", layout=w.Layout(width="60%"))
    why = w.Text(placeholder="理由 why (stored with the decision)", layout=w.Layout(width="60%"))
    title = w.Text(placeholder="新标题 new title")
    level1 = w.Text(placeholder="一级分类 level 1")
    level2 = w.Text(placeholder="二级分类 level 2")
    status = w.ToggleButtons(options=list(STATUSES), description="状态")
    message = w.HTML()
    view = w.Output()

    def show(*_):
        view.clear_output()
        if picker.value:
            with view:
                display(HTML(cluster_html(review.cluster(picker.value, draft=False))))

    def act(call):
        def handler(*_):
            try:
                call()
            except MinyiError as e:
                message.value = f"<b style='color:#c0392b'>{e}</b>"
                return
            current = picker.value
            picker.options = options()
            if current in [v for _, v in picker.options]:
                picker.value = current
            message.value = "已保存 saved"
            show()

        return handler

    buttons = {
        "设置状态 set status": lambda: review.mark(picker.value, status.value, why=why.value),
        "改标题 rename": lambda: review.rename(picker.value, title.value, why=why.value),
        "改分类 relabel": lambda: review.relabel(
            picker.value, level1.value, level2.value, why=why.value
        ),
        "撤销 undo": lambda: review.undo(why=why.value),
    }
    row = []
    for label, call in buttons.items():
        button = w.Button(description=label)
        button.on_click(act(call))
        row.append(button)
    picker.observe(show, names="value")
    show()
    return w.VBox(
        [picker, status, w.HBox([title, level1, level2]), why, w.HBox(row), message, view]
    )
