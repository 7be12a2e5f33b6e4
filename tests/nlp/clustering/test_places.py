"""When the places, organisations and lines two opinions name agree (nlp.clustering.places)."""

from nlp.clustering.places import agree, named_lines, place_keys, place_names


def test_place_keys_agree_where_one_name_begins_another():
    keys = place_keys([{"柳树沟"}, {"柳树沟村口"}, {"江北区"}, {"3路"}, {"地铁3号线"}, set()])
    assert keys[0] & keys[1]  # the same village, named more closely
    assert not keys[2]  # a district holds many spots: no key
    assert keys[3] == {"3路"} and keys[4] == {"3号线"} and not keys[5]


def test_a_city_or_province_named_without_its_suffix_is_an_area_not_a_spot():
    # Letters to a city's deputies name the city ("来长沙工作三年"): not a place they share.
    places = [{"长沙"}, {"长沙", "幸福小区"}, {"长沙", "阳光小区"}, {"浏阳"}, {"广东"}, {"北辰"}]
    keys = place_keys(places)
    assert not keys[0] and not keys[3] and not keys[4]
    assert keys[1] == {"幸福小区"}
    assert not agreeing(places, 1, 2)  # two estates of one city
    # A district's short name is as often an estate's (北辰三角洲): it stays a spot.
    assert keys[5] == {"北辰"}


def test_place_keys_agree_on_a_place_named_without_its_township_or_after_a_verb():
    keys = place_keys([{"河湾镇卫生院"}, {"河湾卫生院"}, {"通柳树沟"}, {"柳树沟"}, {"阳光新城"}])
    assert keys[0] & keys[1]  # 河湾镇's clinic, called 河湾卫生院 too
    assert keys[2] & keys[3]  # "通柳树沟的公交": the bus to 柳树沟
    assert not keys[4] & (keys[0] | keys[1] | keys[2] | keys[3])


def test_place_keys_agree_on_a_place_named_without_its_district():
    keys = place_keys([{"江北区金苗幼儿园"}, {"金苗幼儿园"}, {"重庆市江北区金苗幼儿园"}])
    assert keys[0] & keys[1] and keys[2] & keys[1]  # with its city and district, and without
    # Two districts' 实验小学 are two schools: the bare name agrees with neither.
    keys = place_keys([{"江北区实验小学"}, {"渝北区实验小学"}, {"实验小学"}])
    assert not keys[0] & keys[1] and not keys[2] & (keys[0] | keys[1])
    # 小区 and 超市 are no areas: 幸福小区北区3栋 is not also "3栋", nor 家乐福超市南坪店 "南坪店".
    for place, rest in (("幸福小区北区3栋", "3栋"), ("家乐福超市南坪店", "南坪店")):
        keys = place_keys([{place}, {rest}])
        assert not keys[0] & keys[1], place


def agreeing(places, a, b) -> bool:
    keys, names = place_names(places)
    return agree(keys[a], names[a], keys[b], names[b])


def test_two_estates_of_one_neighbourhood_do_not_agree_through_its_name():
    # Each letter names its estate and the neighbourhood: 梅溪青秀 and 梅溪湖正荣府 are two
    # estates by 梅溪湖, and a leaking wall at one is not a stopped site at the other.
    places = [{"梅溪", "梅溪青秀"}, {"梅溪湖正荣府", "梅溪"}, {"梅溪湖"}]
    assert not agreeing(places, 0, 1)
    assert agreeing(places, 1, 2)  # a letter about the neighbourhood may be about either
    # The estate's name before its sort of spot, its property company, a gate or a building is
    # the same estate, and so is a name that ends as an estate's does.
    places = [
        {"锦绣华庭", "锦绣华庭小区"},
        {"锦绣华庭物业公司"},
        {"幸福小区", "幸福小区3栋"},
        {"幸福小区", "幸福小区5栋"},
        {"锦绣华庭", "锦绣华庭东门"},
        {"锦绣华庭小区"},
        {"幸福小区", "幸福小区东门"},
        {"幸福小区", "幸福小区停车场"},
    ]
    assert agreeing(places, 0, 1) and agreeing(places, 2, 3) and agreeing(places, 4, 5)
    assert agreeing(places, 6, 7)


def test_two_stations_of_one_metro_line_do_not_agree_through_the_line():
    places = [{"地铁3号线", "星沙站"}, {"3号线", "深业睿城小区"}, {"地铁3号线"}, {"星沙站"}]
    assert not agreeing(places, 0, 1)  # an exit at one station, works at another
    assert agreeing(places, 0, 2) and agreeing(places, 1, 2)  # the line alone: any of its spots
    assert agreeing(places, 0, 3)
    # A bus route is the matter itself: its letters agree through it.
    assert agreeing([{"230路", "枫林站"}, {"230路", "东门站"}], 0, 1)


def test_places_that_only_begin_alike_do_not_agree():
    places = [{"恒大国际广场"}, {"恒大江湾"}, {"恒大"}, {"黄兴路"}, {"黄兴大道"}, {"黄兴"}]
    assert not agreeing(places, 0, 1)  # two estates of one developer
    assert agreeing(places, 0, 2) and agreeing(places, 2, 1)  # 恒大 alone may mean either
    assert not agreeing(places, 3, 4)
    # The symmetric keys still share 恒大: agreement is what tells them apart.
    keys = place_keys(places)
    assert keys[0] & keys[1]


def test_buildings_of_one_estate_and_names_with_characters_swapped_agree():
    places = [{"幸福小区3栋"}, {"幸福小区5栋"}, {"阳光小区3栋"}, {"中央美郡5栋"}, {"中央郡美"}]
    assert agreeing(places, 0, 1) and not agreeing(places, 0, 2)
    assert agreeing(places, 3, 4)  # one estate, misspelt
    # Numbers in another order are other places.
    assert not agreeing([{"第十二中学"}, {"第二十中学"}], 0, 1)
    assert not agreeing([{"幸福路12号院"}, {"幸福路21号院"}], 0, 1)


def test_a_place_behind_a_brand_agrees_with_its_name_alone():
    places = [{"万科魅力之城小区"}, {"魅力之城小区"}, {"金地魅力之城小区"}]
    assert agreeing(places, 0, 1) and agreeing(places, 2, 1)
    assert not agreeing(places, 0, 2)  # two brands' estates of one name
    # Behind a district it is the district's school, judged by the district (see above).
    assert not agreeing([{"江北区实验小学"}, {"渝北区实验小学"}, {"实验小学"}], 0, 1)


def test_the_bare_name_of_a_county_the_batch_names_gives_no_key():
    keys = place_keys([{"七星县", "七星"}, {"七星"}, {"七星县第一中学"}, {"七星县第二中学"}])
    assert not keys[0] and not keys[1]  # the county, not a spot in it
    assert not keys[2] & keys[3]  # two schools in it
    assert place_keys([{"七星"}, {"七星村口"}])[1] == {"七星", "七星村口"}  # a village of that name


def test_lines_named_in_chinese_numerals_are_the_same_lines_as_in_digits():
    assert named_lines("三路公交晚上收车太早") == named_lines("3路公交挤死了") == {"3路"}
    assert named_lines("坐十二路上班") == {"12路"}
    assert named_lines("地铁二号线太挤") == {"2号线"}
    assert named_lines("一百零八路车不来") == {"108路"}
    # Words, not lines: on the way, a three-way junction, two roads.
    for text in ("一路颠簸到县城", "一路车流不断", "三路口没有红绿灯", "两路车挤在一起"):
        assert not named_lines(text), text


def test_routes_written_with_xian_are_the_same_routes():
    assert (
        named_lines("X112线路发车太慢，要等半小时")
        == named_lines("X112路能不能加密班次")
        == {"X112路"}
    )
    assert named_lines("坐112线到火车站") == {"112路"}
    # A number before the bus is its route, whatever the letter's case.
    assert named_lines("405公交高峰期等不到车") == named_lines("405路早上只有一趟") == {"405路"}
    assert named_lines("x117公交末班车太早") == named_lines("X117路收车早") == {"X117路"}
    assert not named_lines("打12345反映公交站台坏了")
    # Not routes: a metro line keeps its own name, a city's tier and a power line are no routes.
    assert named_lines("地铁2号线太挤") == {"2号线"}
    for text in ("3线城市房价涨了", "110kV线路离房子太近"):
        assert not named_lines(text), text


def test_a_city_named_with_a_verb_of_going_is_the_city():
    # "在长沙" as the tagger found it: still the city, not a spot two letters share.
    keys = place_keys([{"在长沙"}, {"在长沙", "幸福小区"}, {"到浏阳", "浏阳"}])
    assert not keys[0] and keys[1] == {"幸福小区"} and not keys[2]
