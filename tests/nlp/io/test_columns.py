import pytest

from nlp.core.errors import InputError
from nlp.io import resolve_columns


def test_resolve_columns_guesses_common_names():
    cols = resolve_columns(["留言编号", "留言用户", "留言主题", "留言时间", "留言详情", "点赞数"])
    assert (cols.text, cols.id, cols.time, cols.title, cols.user) == (
        "留言详情",
        "留言编号",
        "留言时间",
        "留言主题",
        "留言用户",
    )
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


def test_resolve_columns_takes_a_column_by_its_number():
    cols = resolve_columns(["column_1", "column_2", "column_3"], text="3", id="1")
    assert (cols.text, cols.id) == ("column_3", "column_1")
    assert resolve_columns(["3", "意见"], text="3").text == "3"  # a column named so comes first
    with pytest.raises(InputError, match="--text-column 4: the input has 3 column"):
        resolve_columns(["column_1", "column_2", "column_3"], text="4")


def test_resolve_columns_without_a_header_says_to_pass_a_number():
    with pytest.raises(InputError, match="first row looks like data.*--text-column 3") as e:
        resolve_columns(["column_1", "column_2", "column_3"])
    assert "column_1" not in str(e.value)


def test_resolve_columns_never_lists_a_name_that_looks_like_data():
    with pytest.raises(InputError) as e:
        resolve_columns(["张三的意见", "13907551234", "备注"])
    message = str(e.value)
    assert "13907551234" not in message and "#2 (looks like data)" in message and "备注" in message


def test_header_looks_like_data():
    from nlp.io import header_looks_like_data

    assert header_looks_like_data(["张伟", "13907551234", "小区暖气不热"])
    assert header_looks_like_data(["188006", "2024-07-01 10:00", "暖气不热"])
    assert header_looks_like_data(["110101199003071234", "路灯坏了"])
    assert not header_looks_like_data(["编号", "来源", "日期", "意见内容"])
    assert not header_looks_like_data(["id", "2024", "留言详情"])  # a known name: a real header
    assert not header_looks_like_data(["", ""])
