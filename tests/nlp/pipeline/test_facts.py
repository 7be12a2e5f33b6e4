from nlp.classify.taxonomy import Taxonomy
from nlp.pipeline.facts import named


def test_a_name_the_taxonomy_lists_as_a_keyword_is_not_a_place():
    keywords = Taxonomy.load().keywords
    assert {"热力公司", "维保公司", "暖气"} <= keywords
    found = named(
        ok=[0, 1],
        source=[0, 1],
        given_place=["", ""],
        places=[["和平里小区"], ["翠湖苑小区"]],
        orgs=[["热力公司"], ["热力公司", "临江市恒达热力有限公司"]],
        routes=[frozenset(), frozenset({"12路"})],
        topic_words=keywords,
    )
    assert found == [
        frozenset({"和平里小区"}),
        frozenset({"翠湖苑小区", "临江市恒达热力有限公司", "12路"}),
    ]
    # Without the keywords the two letters share a "place" and may merge.
    plain = named(
        [0, 1],
        [0, 1],
        ["", ""],
        [["和平里小区"], ["翠湖苑小区"]],
        [["热力公司"]] * 2,
        [frozenset()] * 2,
    )
    assert all("热力公司" in p for p in plain)


def test_letters_to_one_heating_company_from_two_estates_are_two_issues():
    from nlp import Pipeline
    from nlp.io.readers import InputTable

    texts = [
        "和平里小区暖气不热，屋里才十五度，热力公司电话打不通",
        "翠湖苑小区暖气片冰凉，屋里才十五度，找热力公司也没用",
        "和平里小区的暖气不热，热力公司不管",
        "翠湖苑小区暖气不热，热力公司推来推去",
    ]
    cluster = Pipeline().run(InputTable.from_texts(texts)).opinions["cluster"].tolist()
    assert cluster[0] == cluster[2] and cluster[1] == cluster[3] and cluster[0] != cluster[1]
