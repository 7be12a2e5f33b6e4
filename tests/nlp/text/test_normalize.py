from nlp.text.normalize import Normalizer, binary_share


def test_normalizer_converts_traditional_to_simplified():
    assert Normalizer().normalize("醫保報銷要跑好幾趟") == "医保报销要跑好几趟"


def test_normalizer_makes_fullwidth_ascii_halfwidth_but_keeps_chinese_punctuation():
    assert Normalizer().normalize("电话１３９，ＡＢＣ！") == "电话139，ABC！"


def test_normalizer_collapses_whitespace_and_drops_spaces_between_chinese():
    assert (
        Normalizer().normalize("\n\t 村里  那条路 \r\n坏了  ok then ") == "村里那条路坏了 ok then"
    )


def test_normalizer_removes_emoji_and_control_characters():
    assert Normalizer().normalize("路灯坏了😡😡\x07好几天\u200b👍") == "路灯坏了好几天"


def test_normalizer_cuts_long_text():
    assert len(Normalizer(max_chars=100).normalize("路" * 1000)) == 100


def test_normalizer_can_keep_traditional():
    assert Normalizer(to_simplified=False).normalize("醫保") == "醫保"


def test_binary_share_tells_junk_from_text():
    assert binary_share("暖气不热") == 0.0
    assert binary_share("\x00\x01\x02\ufffd\ufffd暖") > 0.8
    assert binary_share("") == 0.0


def test_lost_marks_read_as_the_spaces_a_utf8_copy_had():
    from nlp.text.normalize import without_lost_marks

    normalizer = Normalizer()
    for utf8, gbk in (
        ("修好啊？\xa0\xa0\xa0原来的球场", "修好啊？??? 原来的球场"),
        ("误差超过\xa015%", "误差超过?15%"),
        ("2014年\xa09\xa0月", "2014年?9?月"),
        ("您好！\xa0我是居民", "您好！?我是居民"),
    ):
        assert without_lost_marks(normalizer.normalize(gbk)) == normalizer.normalize(utf8)
    assert without_lost_marks("暖气不热？") == "暖气不热？"  # Chinese question marks are kept
