import pytest

from nlp.errors import ConfigError
from nlp.segment import JiebaTokenizer, make_tokenizer


def test_jieba_tokenizer_keeps_domain_terms_whole():
    words = JiebaTokenizer().tokenize("新农合报销和采伐证的事")
    assert "新农合" in words and "采伐证" in words


def test_jieba_tokenizer_drops_stopwords_and_punctuation():
    words = JiebaTokenizer().tokenize("我们的暖气不热了，。！")
    assert "的" not in words and "我们" not in words and "，" not in words
    assert "暖气" in words


def test_jieba_tokenizers_do_not_share_state(tmp_path):
    user = tmp_path / "dict.txt"
    user.write_text("暖气不热 9999 n\n", encoding="utf-8")
    custom = JiebaTokenizer(user_dict=user)
    assert "暖气不热" in custom.tokenize("暖气不热")
    assert "暖气不热" not in JiebaTokenizer().tokenize("暖气不热")


def test_make_tokenizer_rejects_unknown_backend_and_hanlp_without_model():
    with pytest.raises(ConfigError, match="unknown tokenizer"):
        make_tokenizer("spacy")
    with pytest.raises(ConfigError, match="local model"):
        make_tokenizer("hanlp")
