"""report.html: one self-contained file whose charts a real browser draws."""

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from nlp import Pipeline, read_table
from nlp.core.resources import corpus_path
from nlp.outputs.report import render_report

ARTIFACTS = Path(__file__).resolve().parents[3] / "test-output"


@pytest.fixture(scope="module")
def report():
    result = Pipeline().run(read_table(corpus_path("sample_opinions.csv")))
    return result, render_report(result)


def test_report_is_self_contained_with_its_charts(report):
    result, html = report
    for chart in ("chart-classes", "chart-weekly", "chart-trends", "chart-map"):
        assert re.search(rf'<figure id="{chart}"><svg', html), chart
    # Nothing is fetched: no scripts, stylesheets or images from elsewhere (SVG namespaces are names, not requests).
    assert not re.search(r'(?:src|href)="(?:https?:)?//', html)
    assert "<script" not in html
    # The charts say what the run found: every class of the summary is a bar label.
    classes = html[html.index('id="chart-classes"') : html.index('id="chart-weekly"')]
    for name in result.summary["level1"]:
        assert name in classes
    top = result.clusters.iloc[0]
    assert top["cluster"] in html[html.index('id="chart-trends"') :]


def _browser() -> str | None:
    return next(
        (
            shutil.which(name)
            for name in ("chromium", "chromium-browser", "google-chrome", "chrome")
            if shutil.which(name)
        ),
        None,
    )


@pytest.mark.skipif(_browser() is None, reason="no Chromium on this machine (apt install chromium)")
def test_report_renders_in_headless_chromium(report, tmp_path):
    from PIL import Image

    _, html = report
    page = tmp_path / "report.html"
    page.write_text(html, encoding="utf-8")
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    shot.unlink(missing_ok=True)
    browser = [
        _browser(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--hide-scrollbars",
        "--no-first-run",
    ]
    subprocess.run(
        [*browser, "--window-size=1100,4000", f"--screenshot={shot}", page.as_uri()],
        capture_output=True,
        timeout=120,
        check=True,
    )
    dom = subprocess.run(
        [*browser, "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    ).stdout
    print(f"screenshot of report.html: {shot}")
    # The browser parsed four inline charts, each with drawn shapes.
    assert dom.count("<svg") == 4 and dom.count("<path") > 50
    image = Image.open(shot).convert("L")
    assert image.size == (1100, 4000)
    # Drawn, not blank: the page has ink from top to bottom (tables, then charts).
    for band in range(4):
        part = image.crop((0, band * 800, 1100, band * 800 + 800))
        assert part.getextrema()[0] < 128, f"band {band} of the screenshot is blank"


def test_report_charts_warn_of_nothing_without_chinese_fonts(report):
    import warnings

    result, _ = report
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a missing glyph in the layout font would raise here
        html = render_report(result)
    assert 'id="chart-trends"' in html
