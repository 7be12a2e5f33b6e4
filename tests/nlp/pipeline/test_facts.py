from nlp import Pipeline
from nlp.classify.taxonomy import Taxonomy
from nlp.io.readers import InputTable

HEATING = [
    "和平里小区暖气不热，屋里才十五度，热力公司电话打不通",
    "翠湖苑小区暖气片冰凉，屋里才十五度，找热力公司也没用",
    "和平里小区的暖气不热，热力公司不管",
    "翠湖苑小区暖气不热，热力公司推来推去",
]


def test_a_name_the_taxonomy_lists_as_a_keyword_is_not_kept_as_a_place():
    assert {"热力公司", "维保公司", "高速公路"} <= Taxonomy.load().keywords
    block = Pipeline().row_stages(HEATING, ["热力公司收费太高"] + [""] * 3)
    named = [set(block.places[i]) | set(block.orgs[i]) for i in range(len(HEATING))]
    assert all("热力公司" not in n for n in named), named
    assert "和平里" in " ".join(named[0]) and "翠湖苑" in " ".join(named[1])


def test_letters_to_one_heating_company_from_two_estates_are_two_issues():
    result = Pipeline().run(InputTable.from_texts(HEATING))
    cluster = result.opinions["cluster"].tolist()
    assert cluster[0] == cluster[2] and cluster[1] == cluster[3] and cluster[0] != cluster[1]
    assert not result.clusters["places"].str.contains("热力公司").any()
