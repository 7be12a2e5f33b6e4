"""The run report: one self-contained HTML file (charts as inline SVG, no script, no network).

Counts, the hottest issues with their status, a bar chart of classes, the weekly trend of all
opinions and of the top clusters, a map of the clusters, personal data masked and timings: the
pictures of the quarterly-review notebook.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from jinja2 import Environment
from markupsafe import Markup

from nlp.io.cells import xml_safe

if TYPE_CHECKING:
    from nlp.pipeline import RunResult

__all__ = ["render_report"]

_TEMPLATE = """<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><title>Minyi 民意 — {{ s.input.source }}</title>
<style>
body{font-family:"Noto Sans CJK SC","PingFang SC","Microsoft YaHei",sans-serif;margin:2em;max-width:60em;color:#222}
h1{font-size:1.4em} h2{font-size:1.1em;margin-top:1.6em}
table{border-collapse:collapse} td,th{padding:.2em .8em;border-bottom:1px solid #ddd;text-align:left}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.bar{background:#c0392b;height:1em;display:inline-block;vertical-align:middle}
.muted{color:#777} .nw{white-space:nowrap}
figure{margin:1em 0} figure svg{display:block}
</style></head><body>
<h1>民意 Minyi 处理报告 · run report</h1>
<p class="muted">{{ s.input.source }} · {{ s.input.format }}{% if s.input.encoding %} · {{ s.input.encoding }}{% endif %}{% if s.input.sheet %} · sheet {{ s.input.sheet }}{% endif %} · Minyi {{ s.minyi_version }}</p>
<h2>行数 Rows</h2>
<table id="status"><tr><th>状态 status</th><th>行 rows</th></tr>
<tr><td>总计 total</td><td class="n">{{ s.input.rows }}</td></tr>
{% for k, v in s.status.items() %}<tr><td>{{ k }}</td><td class="n">{{ v }}</td></tr>{% endfor %}
<tr><td>重复 exact duplicates</td><td class="n">{{ s.duplicates.rows }} ({{ s.duplicates.groups }} groups)</td></tr>
</table>
{% if s.input.notes %}<ul>{% for n in s.input.notes %}<li>{{ n }}</li>{% endfor %}</ul>{% endif %}
{% if issues %}<h2>热点问题 Top issues</h2>
<table id="issues"><tr><th>#</th><th>问题ID</th><th>热度</th><th>规模</th><th>问题描述</th><th>承办单位</th><th>状态</th></tr>
{% for c in issues %}<tr><td class="n">{{ loop.index }}</td><td class="nw">{{ c.cluster }}</td><td class="n">{{ c.heat }}</td><td class="n">{{ c.size }}</td><td>{{ c.title }}</td><td>{{ c.department }}</td><td class="nw">{{ c.status }}</td></tr>{% endfor %}
</table>
<p class="muted">{{ s.clusters.count }} clusters; {{ s.clusters.with_2_or_more }} with two or more opinions ({{ s.clusters.rows_in_clusters_of_2_or_more }} rows).</p>{% endif %}
<h2>图表 Charts</h2>
<figure id="chart-classes">{{ charts.classes|safe }}</figure>
{% if charts.weekly %}<figure id="chart-weekly">{{ charts.weekly|safe }}</figure>{% endif %}
{% if charts.trends %}<figure id="chart-trends">{{ charts.trends|safe }}</figure>{% endif %}
{% if charts.map %}<figure id="chart-map">{{ charts.map|safe }}</figure>{% endif %}
<h2>一级分类 Level-1 classes</h2>
{% if s.classifier %}<p id="classifier">分类模型 classified by: {{ s.classifier.model }}{% if s.classifier.self_trained_on_rows %} (self-trained on {{ s.classifier.self_trained_on_rows }} rows of this input){% endif %}</p>{% endif %}
<table id="classes">{% for name, count in level1 %}
<tr><td>{{ name }}</td><td class="n">{{ count }}</td><td><span class="bar" style="width:{{ (300 * count / top)|round(1) }}px"></span></td></tr>{% endfor %}
</table>
<h2>二级分类 Top level-2 classes</h2>
<table>{% for name, count in s.level2.items() %}<tr><td>{{ name }}</td><td class="n">{{ count }}</td></tr>{% endfor %}</table>
{% if s.pii_masked %}<h2>已遮盖的个人信息 Personal data masked</h2>
<table>{% for k, v in s.pii_masked.items() %}<tr><td>{{ k }}</td><td class="n">{{ v }}</td></tr>{% endfor %}</table>{% endif %}
<h2>耗时 Timings</h2>
<table><tr><th>stage</th><th>seconds</th><th>rows/s</th></tr>
{% for k, v in s.timings.items() %}<tr><td>{{ k }}</td><td class="n">{{ v.seconds }}</td><td class="n">{{ v.rows_per_second }}</td></tr>{% endfor %}
</table>
</body></html>
"""


def render_report(result: RunResult) -> str:
    """Render the run as one HTML page with its charts embedded."""
    from nlp.outputs.charts import (
        class_bars_svg,
        cluster_map_svg,
        cluster_trends_svg,
        overall_weekly,
        weekly_trend_svg,
    )

    summary = result.summary
    level1 = sorted(summary["level1"].items(), key=lambda kv: -kv[1])
    top = max((c for _, c in level1), default=1)
    clusters = result.clusters
    issues = clusters.head(10).to_dict("records") if len(clusters) else []
    ok = (
        result.opinions[result.opinions["status"] == "ok"]
        if len(result.opinions)
        else result.opinions
    )
    weekly = overall_weekly(ok["time"].tolist()) if len(ok) else None
    charts = {
        "classes": class_bars_svg(summary["level1"]),
        "weekly": weekly_trend_svg(weekly) if weekly is not None and len(weekly) >= 2 else "",
        "trends": cluster_trends_svg(clusters)
        if len(clusters) and weekly is not None and len(weekly)
        else "",
        "map": cluster_map_svg(clusters, result.centroids)
        if len(clusters) >= 2 and result.centroids
        else "",
    }
    env = Environment(autoescape=True, finalize=_printable)
    return env.from_string(_TEMPLATE).render(
        s=summary, level1=level1, top=top, issues=issues, charts=charts
    )


def _printable(value):
    """A value as the page shows it: text without the characters XML forbids (a NUL or a
    control character in a cell), and with a lone surrogate replaced, so that it can be
    written as UTF-8. Markup (the charts) stays markup."""
    if isinstance(value, str):
        safe = xml_safe(value)
        if safe is not value:
            return Markup(safe) if isinstance(value, Markup) else safe
    return value
