import pytest

from nlp.core.errors import ConfigError
from nlp.text.segment import JiebaTokenizer, make_tokenizer


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


def test_blocks_met_again_give_jiebas_words_without_segmenting_them_again():
    texts = [
        "您好！我是幸福小区的住户，暖气不热，屋里才15度。",
        "您好！我是向阳小区的住户，暖气不热，屋里才12度。麻烦尽快处理, thanks 2024-1-5",
        "医保报销要跑好几趟",
    ]
    plain = JiebaTokenizer(remember=0)
    stop = plain._stopwords
    # What the tokenizer promises: jieba's words of the whole text, filtered.
    expected = [
        [w for w in plain._jieba.lcut(t) if w not in stop and any(c.isalnum() for c in w)]
        for t in texts
    ]
    tokenizer = JiebaTokenizer()
    cut = []
    jieba = tokenizer._jieba
    real = jieba.cut
    jieba.cut = lambda block, HMM=True: cut.append(block) or real(block, HMM=HMM)
    assert tokenizer.tokenize_many(texts) == expected
    assert cut.count("暖气不热") == 1 and cut.count("您好") == 1  # the second text's were known
    assert "我是向阳小区的住户" in cut


def test_remembered_blocks_are_bounded():
    tokenizer = JiebaTokenizer(remember=3)
    tokenizer.tokenize("一，二，三，四，五")
    assert tokenizer._block_words.cache_info().currsize == 3
    cut = []
    jieba = tokenizer._jieba
    real = jieba.cut
    jieba.cut = lambda block, HMM=True: cut.append(block) or real(block, HMM=HMM)
    tokenizer.tokenize("四，五")  # the three most recently met: "四", "，", "五"
    assert cut == []
    tokenizer.tokenize("三")
    assert cut == ["三"]
