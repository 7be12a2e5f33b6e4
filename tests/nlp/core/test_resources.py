import pytest

from nlp.core.errors import ConfigError
from nlp.core.resources import corpus_path, load_yaml


def test_load_yaml_reads_the_project_file_by_default():
    assert "classes" in load_yaml(None, "suggestion_templates.yaml", "the templates", ("default",))
    assert corpus_path("scoring.yaml").is_file()


@pytest.mark.parametrize(
    ("content", "message"),
    [("- a\n- b\n", "mapping"), ("a: 1\n", "lacks 'b'"), ("a: [1\n", "cannot read")],
)
def test_load_yaml_says_what_is_wrong(tmp_path, content, message):
    path = tmp_path / "x.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message):
        load_yaml(path, "unused", "the test config", ("a", "b"))
