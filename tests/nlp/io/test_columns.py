import pytest

from nlp.core.errors import InputError
from nlp.io import resolve_columns


def test_resolve_columns_guesses_common_names():
    cols = resolve_columns(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数"])
    assert (cols.text, cols.id, cols.time, cols.title, cols.user) == ("留言详情", "留言编号", "留言时间", "留言主题", "留言用户")
    assert cols.source is None


def test_resolve_columns_uses_the_given_names():
    cols = resolve_columns(["a", "b"], text="b", id="a")
    assert (cols.text, cols.id) == ("b", "a")


def test_resolve_columns_lists_columns_when_the_text_column_is_unknown():
    with pytest.raises(InputError, match="--text-column.*columns are: 甲, 乙"):
        resolve_columns(["甲", "乙"])
    with pytest.raises(InputError, match="no column '内容'.*甲, 乙"):
        resolve_columns(["甲", "乙"], text="内容")


def test_resolve_columns_takes_the_only_column():
    assert resolve_columns(["whatever"]).text == "whatever"
