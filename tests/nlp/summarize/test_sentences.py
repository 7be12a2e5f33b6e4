from nlp.summarize import key_sentences, lead, split_sentences, strip_filler, textrank


def test_split_sentences_at_ends_and_line_breaks():
    assert split_sentences("路坏了好几年。下雨没法走！\n希望尽快修好") == [
        "路坏了好几年。",
        "下雨没法走！",
        "希望尽快修好",
    ]
    assert split_sentences("好。行") == []


def test_strip_filler_removes_greetings_and_closings():
    assert "您好" not in strip_filler("代表您好，我是青石村的村民，路坏了，谢谢！")


def test_key_sentences_prefers_central_and_skips_repeats():
    sentences = ["暖气不热屋里冷", "暖气不热屋里冷！", "供暖温度不够暖气不热", "今天天气不错"]
    picked = key_sentences(sentences, k=2)
    assert 3 not in picked and not {0, 1} <= set(picked)


def test_baselines():
    assert lead(["a", "b"], 1) == [0]
    ranked = textrank(["暖气不热", "暖气很冷不热", "路灯坏了"], k=1)
    assert ranked[0] in (0, 1)


def test_core_text_leaves_no_punctuation_where_a_closing_was_taken_out():
    from nlp.summarize.sentences import core_text

    assert core_text("交了取暖费却不暖和，热力公司电话打不通盼回复。") == (
        "交了取暖费却不暖和，热力公司电话打不通。"
    )
    assert core_text("路灯不亮，请尽快修。谢谢！") == "路灯不亮，请尽快修。"
