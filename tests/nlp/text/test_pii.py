from nlp.text.pii import PiiMasker


def test_mask_patterns_masks_phones_ids_email_cards_accounts():
    m = PiiMasker(names=False)
    text = (
        "电话13912345678，座机0591-87654321，身份证350102199001011234，"
        "邮箱zhang.san@qq.com，卡号6222021234567890128，微信号abc_12345"
    )
    masked = m.mask_patterns(text)
    for secret in (
        "13912345678",
        "87654321",
        "350102199001011234",
        "zhang.san@qq.com",
        "6222021234567890128",
        "abc_12345",
    ):
        assert secret not in masked
    assert masked.count("[电话]") == 2 and "[身份证]" in masked and "[邮箱]" in masked
    assert "[银行卡]" in masked and "[账号]" in masked


def test_mask_patterns_keeps_hotline_amounts_and_dates():
    text = "打12345反映过，2019年交了3000元，编号2024Q3-0001"
    assert PiiMasker(names=False).mask_patterns(text) == text


def test_mask_patterns_catches_phones_typed_loosely():
    m = PiiMasker(names=False)
    assert m.mask_patterns("手机139 1234 5678") == "手机[电话]"
    assert m.mask_patterns("拨打073184567890没人接") == "拨打[电话]没人接"
    assert m.mask_patterns("联系电话：87654321") == "联系电话：[电话]"
    assert m.mask_patterns("工号88888888，房号1321室") == "工号88888888，房号1321室"


def test_mask_many_masks_names_and_keeps_places():
    [out] = PiiMasker().mask_many(["我是张德顺，住在北京市朝阳区，王建国也知道"])
    assert "张德顺" not in out.text and "王建国" not in out.text
    assert out.counts["name"] == 2
    assert any("北京" in p for p in out.places)


def test_mask_many_does_not_take_domain_words_for_names():
    [out] = PiiMasker(keep=frozenset({"林权"})).mask_many(["林权证办不下来"])
    assert out.text == "林权证办不下来"


def test_mask_many_finds_coded_districts_of_anonymised_exports():
    [out] = PiiMasker(names=False).mask_many(["A市A3区联丰路的噪音"])
    assert out.places == ["A市", "A3区"]


def test_a_business_the_tagger_takes_for_a_name_is_kept_as_an_organisation():
    # LAC tags 鑫达 and 力美健 as people; what follows says they are a builder and a gym.
    builder, gym, crew = PiiMasker().mask_many(
        ["鑫达建筑欠俺们二十多个人的工钱", "力美健身上礼拜还在推销私教课", "张建国建筑队欠薪"]
    )
    assert builder.text == "鑫达建筑欠俺们二十多个人的工钱" and "鑫达建筑" in builder.orgs
    assert gym.text.startswith("力美健身") and "力美健身" in gym.orgs
    assert builder.counts["name"] == gym.counts["name"] == 0
    # A name that begins with a surname stays a name, whatever follows it.
    assert "张建国" not in crew.text and crew.counts["name"] == 1


def test_a_spot_the_tagger_reads_as_nouns_before_its_kind_is_a_place():
    # LAC tags 魅力/之/城 as nouns and 小区 apart, and 英祥 alone as a place.
    charm, spring, old, ours = PiiMasker().mask_many(
        [
            "我们是魅力之城小区居民",
            "我是英祥春天小区居民",
            "老旧小区改造什么时候开始",
            "我们小区电梯坏了",
        ]
    )
    assert "魅力之城小区" in charm.places
    assert "英祥春天小区" in spring.places
    # Words that say what sort of estate, or whose, name none.
    assert old.places == [] and ours.places == []
    # Nor do a count or a share of estates.
    for text in ("楚府线几个小区经常停电", "市里大部分小区没有充电桩"):
        [found] = PiiMasker().mask_many([text])
        assert not any(p.endswith("小区") for p in found.places), found.places


def test_a_sort_of_spot_is_neither_a_place_nor_an_organisation():
    texts = [
        "我们这个安置小区没有公办幼儿园，只有一家普惠性幼儿园",
        "住宅小区里开麻将馆，商住楼下油烟直排",
        "金苗幼儿园门口的路灯坏了，幸福里小区三单元也没灯",
        "我住在城市花园小区，楼下噪音大",
    ]
    settled, mixed, named, garden = PiiMasker().mask_many(texts)
    found = {*settled.places, *settled.orgs, *mixed.places, *mixed.orgs}
    assert not found & {"安置小区", "公办幼儿园", "普惠性幼儿园", "住宅小区", "商住", "商住楼"}
    # A spot's own name is kept, and a unit alone is not one.
    assert "金苗幼儿园" in {*named.places, *named.orgs} and "三单元" not in named.places
    assert any(p.startswith("幸福里") for p in named.places)
    assert garden.places == ["城市花园小区"]  # a name of its own, though 城市 says a sort
