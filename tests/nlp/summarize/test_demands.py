from nlp.summarize.demands import actionable, canonical, merge_demands, suggestion, units


def test_units_cut_a_sentence_before_each_request():
    assert units("路面全是坑，希望尽快修，还我们一条好路，请领导重视") == [
        "路面全是坑",
        "希望尽快修",
        "请领导重视",
    ]
    assert units("小区门口的路灯坏了三个月") == ["小区门口的路灯坏了三个月"]


def test_canonical_keeps_the_action():
    assert canonical("希望有关部门尽快制止夜间施工，还我们一个安静的环境！") == "尽快制止夜间施工"
    assert canonical("恳请A3区环保局执法大队依法查处该工地，责令停工") == "依法查处该工地，责令停工"
    assert canonical("请公安机关按照《刑法》的相关规定，对该平台立案侦查。") == "对该平台立案侦查"
    assert canonical("二、请公安机关对涉案资产查封、冻结") == "对涉案资产查封、冻结"


def test_canonical_keeps_the_deed_after_a_clause_that_sets_the_scene():
    demand = "建议外围红线范围停车位改造项目中，继续保持对原本小区业主车辆免费，让业主继续享受福利"
    assert canonical(demand) == "外围红线范围停车位改造项目中，继续保持对原本小区业主车辆免费"
    # Without a scene, a clause that names no deed still ends the demand, also after a deed
    # that ends on a word a scene may use (改造, 建设).
    assert canonical("请尽快修复路灯，继续保持关注") == "尽快修复路灯"
    assert canonical("请尽快启动老旧小区改造，小区环境太差了") == "尽快启动老旧小区改造"
    assert canonical("希望在拆迁期间，依法保障村民权益") == "在拆迁期间，依法保障村民权益"
    # Any clause that ends on 中 sets a scene.
    assert canonical("希望调查车贷案中，地方官员的违法行为，打掉保护伞") == (
        "调查车贷案中，地方官员的违法行为"
    )


def test_demands_that_name_no_object_or_point_ahead_are_not_actionable():
    for action in ("修复", "悉数追回", "公示与众", "此线路的路线图如下：从广场出发"):
        assert not actionable(canonical(action)), action
    for action in ("取消车位捆绑", "增设高杆灯", "尽快修路灯", "尽快发放补偿款"):
        assert actionable(canonical(action)), action


def test_canonical_words_a_when_question_as_the_request_it_is():
    assert canonical("第一次补偿款什么时候发放，给村民一个合理解释") == (
        "尽快发放第一次补偿款，给村民一个合理解释"
    )
    assert canonical("请问安置房啥时候能到位？") == "尽快落实安置房"
    assert canonical("为什么补偿款只发了一半") == "为什么补偿款只发了一半"


def test_actionable_demands_name_a_deed():
    assert actionable("尽快取缔该搅拌站") and actionable("查办搅拌厂")
    assert not actionable("尽快处理此事") and not actionable("依法处理") and not actionable("重视")


def test_what_someone_else_laid_down_counted_off_is_not_a_demand():
    # "立案但要求一不发立案公告，二不对外宣传": the police's terms, which the writer complains of.
    assert not actionable(canonical("一不发立案公告，二不对外宣传，三不抓捕犯罪嫌疑人"))
    assert actionable(canonical("尽快发布立案公告"))


def test_merge_demands_counts_the_opinions_behind_one_demand():
    actions = [
        "尽快取缔该搅拌站",
        "尽快关闭或搬迁该搅拌站",
        "该搅拌站搬离居民区",
        "在村口安装路灯",
        "尽快取缔该搅拌站",
    ]
    merged = merge_demands(actions, ["a", "b", "c", "d", "a"])
    assert [(d.count, d.sources) for d in merged] == [(3, ["a", "b", "c"]), (1, ["d"])]
    assert merged[0].text == "尽快取缔该搅拌站"


def test_suggestion_addresses_the_responsible_body():
    assert suggestion("尽快修复我们村的道路", "交通运输局") == "请交通运输局尽快修复该村的道路。"
    assert suggestion("末班车延长", "交通运输局") == "请交通运输局推动末班车延长。"
    assert suggestion("尽快维修", "交通运输局") is None  # of what, a 建议 cannot say
