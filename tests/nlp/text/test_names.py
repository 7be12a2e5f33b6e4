from nlp.text.names import mask_names


def test_mask_names_hides_names_the_tagger_misses():
    assert mask_names("该公司CEO于xiang拒不退款") == "该公司CEO[姓名]拒不退款"
    assert mask_names("公司总经理：王大明，拖欠工资") == "公司总经理：[姓名]，拖欠工资"
    assert mask_names("张建国书记说会解决") == "[姓名]书记说会解决"
    assert mask_names("[姓名]、李秀兰、[姓名]都去了") == "[姓名]、[姓名]、[姓名]都去了"


def test_mask_names_leaves_titles_and_places_alone():
    text = "希望市委书记关注东关社区门口的路"
    assert mask_names(text) == text
