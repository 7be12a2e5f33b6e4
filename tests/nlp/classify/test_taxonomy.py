import pytest

from nlp.classify import Taxonomy
from nlp.core.errors import ConfigError

LEVEL1 = {
    "城乡建设",
    "环境保护",
    "交通运输",
    "教育文体",
    "劳动和社会保障",
    "商贸旅游",
    "卫生计生",
    "农村农业",
    "民政",
    "政法",
    "国土资源",
    "经济管理",
    "科技与信息产业",
    "党务政务",
    "纪检监察",
}


def test_default_taxonomy_has_the_15_national_classes_with_departments():
    t = Taxonomy.load()
    assert {c.name for c in t.level1} == LEVEL1
    assert all(c.department for c in t.classes)
    assert t.department("劳动和社会保障", "医保报销") == "医疗保障局"
    assert t.department("农村农业", "林木采伐审批") == "林业局"


def test_taxonomy_load_rejects_a_broken_file(tmp_path):
    bad = tmp_path / "t.yaml"
    bad.write_text("classes: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="classes"):
        Taxonomy.load(bad)


def test_taxonomy_children_inherit_department(tmp_path):
    path = tmp_path / "t.yaml"
    path.write_text(
        "classes:\n- name: 甲\n  department: 甲局\n  children:\n  - name: 乙\n    keywords: [乙]\n",
        encoding="utf-8",
    )
    t = Taxonomy.load(path)
    assert t.department("甲", "乙") == "甲局"


@pytest.mark.parametrize("value", ["0", "-1", "hot", "true"])
def test_taxonomy_rejects_a_keyword_temperature_that_is_not_a_positive_number(tmp_path, value):
    path = tmp_path / "t.yaml"
    path.write_text(
        f"keyword_temperature: {value}\nclasses:\n- name: 甲\n  keywords: [甲]\n", encoding="utf-8"
    )
    with pytest.raises(ConfigError, match="keyword_temperature"):
        Taxonomy.load(path)
    path.write_text("classes:\n- name: 甲\n  keywords: [甲]\n", encoding="utf-8")
    assert (
        Taxonomy.load(path).keyword_temperature == 1.0
    )  # a user's tree without one keeps the plain shares
