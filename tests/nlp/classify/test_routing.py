import pandas as pd
import pytest

from nlp import InputTable, Pipeline, PipelineConfig
from nlp.classify.routing import RoutingTable
from nlp.core.errors import InputError


def test_most_specific_rule_wins_and_defaults_stay(tmp_path):
    path = tmp_path / "routing.csv"
    path.write_text(
        "一级分类,二级分类,地点,承办单位\n城乡建设,供暖,,市供热办\n城乡建设,供暖,石桥镇,石桥镇供热站\n,,开发区,开发区管委会\n",
        encoding="gbk",
    )
    table = RoutingTable.load(path)
    assert table.department("城乡建设", "供暖", "石桥镇 青石村", "住建局") == "石桥镇供热站"
    assert table.department("城乡建设", "供暖", "河口镇", "住建局") == "市供热办"
    assert table.department("交通运输", "道路破损/改道", "开发区", "交通运输局") == "开发区管委会"
    assert table.department("交通运输", "道路破损/改道", "河口镇", "交通运输局") == "交通运输局"


def test_pipeline_routes_by_class_and_place(tmp_path):
    path = tmp_path / "routing.csv"
    pd.DataFrame(
        [{"level1": "城乡建设", "level2": "供暖", "place": "石桥镇", "department": "石桥镇供热站"}]
    ).to_csv(path, index=False)
    frame = pd.DataFrame(
        {
            "text": ["暖气不热，屋里才十五度", "暖气不热，屋里才十五度。"],
            "地点": ["石桥镇青石村", "河口镇"],
        }
    )
    out = Pipeline(PipelineConfig(routing=str(path))).run(InputTable.from_frame(frame)).opinions
    assert out["department"].tolist() == ["石桥镇供热站", "住房和城乡建设局（供热办）"]


def test_routing_table_errors_name_the_problem(tmp_path):
    (tmp_path / "a.csv").write_text("level1,department\n城乡建设,住建局\n", encoding="utf-8")
    with pytest.raises(InputError, match="level2, place"):
        RoutingTable.load(tmp_path / "a.csv")
    (tmp_path / "b.csv").write_text(
        "level1,level2,place,department\n城乡建设,,,\n", encoding="utf-8"
    )
    with pytest.raises(InputError, match="line 2"):
        RoutingTable.load(tmp_path / "b.csv")


def test_an_opinion_raising_two_matters_gets_both_labels():
    texts = [
        "暖气不热，屋里才十五度，供暖温度一直不达标。另外，村里公路破损严重，道路坑坑洼洼，车都开不了。",
        "医保报销要跑好几趟",
    ]
    out = Pipeline().run(InputTable.from_texts(texts)).opinions
    assert set(out.loc[0, "labels"].split(";")) == {"城乡建设", "交通运输"}
    assert out.loc[1, "labels"] == "劳动和社会保障"
    assert out.loc[1, "alternatives"].startswith("劳动和社会保障 ")
