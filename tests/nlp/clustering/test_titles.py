from nlp.clustering.titles import plain_title


def test_plain_title_drops_greetings_and_closings():
    assert (
        plain_title("领导好，东关社区门口的路改道以后绕好远，谢谢了")
        == "东关社区门口的路改道以后绕好远"
    )
    assert plain_title("尊敬的市长：您好！小区供暖温度不达标。") == "小区供暖温度不达标"
    assert plain_title("王代表，又来麻烦您了，村里的路还没修") == "村里的路还没修"
    assert plain_title("石门村又断水了，谁能管管，电话[电话]") == "石门村又断水了，谁能管管"


def test_plain_title_keeps_what_is_said_about_the_matter():
    for text in ("修路就一次修好，别年年挖", "谁来管管幸福里的电梯", "暖气不热，屋里才十五度"):
        assert plain_title(text) == text


def test_plain_title_keeps_a_text_that_only_greets():
    assert plain_title("代表您好，谢谢！") == "代表您好，谢谢"


def test_plain_title_cuts_at_clauses():
    text = "您好，幸福里小区的电梯三天两头坏，上礼拜困了人，物业不管"
    assert plain_title(text, width=16) == "幸福里小区的电梯三天两头坏"
