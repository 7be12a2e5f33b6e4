"""Build corpora/training_opinions.csv, the labeled corpus behind the cold-start classifier.

Run from the project root: ``python corpora/build_training.py``. Deterministic (seeded). Every
sentence comes from corpora/training_seeds.yaml, written by the Minyi project; places, names and
phone numbers are invented (phones use the 1390000xxxx shape so they reach nobody).

Each opinion picks a level-2 class, then a voice — a one-line fragment, words said at a reception
day, a message-board post, a hotline operator's record, a WeChat message, a long formal letter to
a leader (a formal address, who writes from which county and village, an opening, the matter with
its details, how long it has dragged on, numbered demands and a formal closing, as other
provinces' message boards read) — and fills it with the class's problems, details and demands, a
place and a number, then sometimes adds dialect words, a typo, traditional characters, a phone
number or a second matter. The letter's framing is the same in every class, so that the model
learns to read past it.
"""

from __future__ import annotations

import csv
import random
from pathlib import Path

import yaml

HERE = Path(__file__).parent
SEED = 20261123
PER_CLASS = 70  # 74 level-2 classes → about 5,200 opinions

VILLAGES = [
    "青石村",
    "柳湾村",
    "河东村",
    "马家坪村",
    "松林村",
    "白沙村",
    "双河村",
    "石门村",
    "杨家湾村",
    "龙潭村",
    "新华村",
    "太平村",
]
COMMUNITIES = [
    "东关社区",
    "幸福里社区",
    "桥南社区",
    "向阳小区",
    "锦绣花园",
    "纺织厂宿舍",
    "滨江苑",
    "建设路小区",
    "梧桐里",
    "金桂园",
]
TOWNS = ["石桥镇", "河口镇", "林场乡", "东关街道", "城西街道", "新塘镇", "白云乡"]
CITIES = ["A市", "本市", "我县", "县城", "市里"]
NAMES = [
    "张德顺",
    "李秀兰",
    "王建国",
    "赵桂芳",
    "刘长福",
    "陈玉梅",
    "杨树林",
    "周国强",
    "吴小燕",
    "郑海波",
]
TITLES = [
    "关于{topic}的问题",
    "{place}{topic}问题",
    "反映{place}{short}",
    "{short}，盼解决",
    "投诉{topic}",
    "请求解决{topic}问题",
]

# Dialect and spoken words people use at reception days and in WeChat groups.
DIALECT = [
    ("什么", "啥"),
    ("怎么", "咋"),
    ("我们", "俺们"),
    ("没有", "莫得"),
    ("知道", "晓得"),
    ("很", "老"),
    ("不行", "不得行"),
    ("这样", "恁样"),
]
# Slips of phone typing: homophones and near-homophones.
TYPOS = [
    ("的", "地"),
    ("在", "再"),
    ("已经", "以经"),
    ("反映", "反应"),
    ("交", "缴"),
    ("部门", "布门"),
    ("维修", "维休"),
    ("解决", "解绝"),
    ("情况", "情况况"),
]
OPENERS_SPOKEN = [
    "我反映个事，",
    "代表，我跟你说，",
    "我想说一下，",
    "领导，",
    "我们{place}的事，",
    "你们管不管，",
    "说个实际问题，",
    "",
]
OPENERS_BOARD = ["尊敬的领导：您好！", "尊敬的{city}领导：", "领导您好，", "各位领导好！", "您好！"]
CLOSERS_BOARD = [
    "恳请领导重视，谢谢！",
    "盼复！",
    "望领导百忙之中给予关注。",
    "希望早日得到解决，谢谢！",
    "以上情况属实，请领导核查。",
]
HOTLINE = ["来电人反映：", "市民来电反映，", "来电称：", "群众来电："]
WECHAT_TAIL = [
    "有没有人管啊",
    "大家都是这个情况吧",
    "急急急",
    "求转发",
    "@代表 麻烦反映一下",
    "？？？",
]
# The long formal letter: counties are invented, like the villages.
COUNTIES = [
    "平川县",
    "南屏区",
    "凤鸣县",
    "古城区",
    "江北新区",
    "云溪县",
    "龙门县",
    "北湖区",
    "安平县",
    "柳林区",
]
LEADERS = ["书记", "市长", "县长", "区长", "局长", "主任"]
SURNAMES = ["王", "李", "张", "刘", "陈", "杨", "黄", "周", "吴", "徐"]
OPENERS_LETTER = [
    "尊敬的{leader}：您好！",
    "尊敬的{leader}：",
    "{leader}您好：",
    "尊敬的各位领导：",
    "领导同志：",
    "",
]
SELF_LETTER = [
    "我是{county}{place}的一名{who}。",
    "本人系{county}{place}{who}。",
    "我们是居住在{county}{place}的{who}。",
    "来信人为{county}{place}{who}。",
    "反映人：{county}{place}{who}。",
]
INTRO_LETTER = [
    "现将有关情况反映如下：",
    "冒昧给您写信，想反映一个困扰我们很久的问题。",
    "特向您反映以下情况，恳请关注。",
    "有一件关系群众切身利益的事情，想向您反映。",
    "现就以下问题向您反映：",
    "反映事项：{short}。具体情况：",
]
HISTORY = [
    "我们多次拨打12345热线，也到相关部门当面反映过，至今没有解决。",
    "此前向社区、街道反映过多次，相关部门互相推诿，没有下文。",
    "这个问题已经拖了$n个多月，群众意见很大。",
    "去年也在网上留言反映过，回复说会处理，结果还是老样子。",
    "相关部门来看过一次，之后就再没有人管了。",
    "我们也理解基层工作不容易，但这件事实在拖不起了。",
]
CLOSERS_LETTER = [
    "特此反映，恳请领导在百忙之中予以关注，责成相关部门尽快解决！",
    "以上情况属实，望领导重视，给群众一个满意的答复。此致敬礼！",
    "恳请有关部门依法处理，切实维护群众的合法权益。",
    "盼复为谢！",
    "望予重视，谢谢！",
    "期待您的回复。",
]
TITLES_LETTER = [
    "关于{place}{short}的反映",
    "{county}{place}{short}，盼解决",
    "请求解决{place}{short}的问题",
    "{short}，群众反映强烈",
    "恳请关注{county}{short}",
]


def _fill(text: str, rng: random.Random, place: str) -> str:
    """Fill the seeds' ``$place``, ``$year`` and ``$n`` and the voices' ``{place}`` and ``{city}``."""
    return (
        text.replace("$place", place)
        .replace("{place}", place)
        .replace("$year", str(rng.randrange(1985, 2015)))
        .replace("$n", str(rng.choice([2, 3, 4, 5, 6, 7, 8, 9, 10, 12, 15, 20, 30])))
        .replace("{city}", rng.choice(CITIES))
    )


def _compose(
    level1: str, level2: str, seed: dict, rng: random.Random, others: list[tuple[str, str, dict]]
) -> tuple[str, str, int]:
    place = rng.choice(VILLAGES if rng.random() < 0.5 else COMMUNITIES)
    if rng.random() < 0.3:
        place = rng.choice(TOWNS) + place
    who = rng.choice(seed.get("who") or ["群众"])
    problem = rng.choice(seed["problems"])
    demand = rng.choice(seed["demands"])
    details = seed.get("details") or []
    voice = rng.choices(
        ["fragment", "spoken", "board", "hotline", "wechat", "letter"], [3, 3, 3, 2, 2, 3]
    )[0]
    title = ""
    if voice == "fragment":
        text = problem if rng.random() < 0.6 else f"{problem}，{demand}"
        if rng.random() < 0.3:
            text = f"{place}{text}"
    elif voice == "spoken":
        opener = rng.choice(OPENERS_SPOKEN)
        extra = rng.choice(details) if details and rng.random() < 0.4 else ""
        text = f"{opener}{problem}，{extra}{demand}。"
    elif voice == "board":
        parts = [rng.choice(OPENERS_BOARD), f"我是{place}的{who}。", f"{problem}。"]
        parts += rng.sample(details, k=min(len(details), rng.randint(1, 2))) if details else []
        second = rng.choice(seed["problems"])
        if second != problem and rng.random() < 0.5:
            parts.append(f"另外，{second}。")
        parts += [f"{demand}。", rng.choice(CLOSERS_BOARD)]
        text = "".join(parts)
        short = problem.split("，")[0][:14]
        title = rng.choice(TITLES).format(topic=level2.split("/")[0], place=place, short=short)
    elif voice == "hotline":
        extra = rng.choice(details) if details and rng.random() < 0.5 else ""
        wish = demand.removeprefix("请").removeprefix("希望")
        text = f"{rng.choice(HOTLINE)}{place}{problem}。{extra}来电人希望{wish}。"
    elif voice == "letter":
        leader = f"{rng.choice(SURNAMES)}{rng.choice(LEADERS)}" if rng.random() < 0.7 else "领导"
        county = rng.choice(COUNTIES)
        short = problem.split("，")[0][:14]
        parts = [
            rng.choice(OPENERS_LETTER).format(leader=leader),
            rng.choice(SELF_LETTER).format(county=county, place=place, who=who),
        ]
        parts += [rng.choice(INTRO_LETTER).format(short=short), f"{problem}。"]
        parts += rng.sample(details, k=min(len(details), rng.randint(1, 3))) if details else []
        second = rng.choice(seed["problems"])
        if second != problem and rng.random() < 0.6:
            parts.append(f"此外，{second}。")
        if rng.random() < 0.7:
            parts.append(rng.choice(HISTORY))
        wishes = rng.sample(seed["demands"], k=min(2, len(seed["demands"])))
        parts.append(
            "我们的诉求是："
            + "；".join(f"{'一二'[k]}是{w.removeprefix('请')}" for k, w in enumerate(wishes))
            + "。"
        )
        parts.append(rng.choice(CLOSERS_LETTER))
        text = "".join(parts)
        title = rng.choice(TITLES_LETTER).format(place=place, county=county, short=short)
    else:
        text = f"{problem}{rng.choice(['，', '！', '。。。', ' '])}{rng.choice(WECHAT_TAIL)}"
    text = _fill(text, rng, place)
    # A second, unrelated matter now and then: real opinions are not always about one thing.
    if rng.random() < 0.05 and others:
        _, _, other = rng.choice(others)
        text = text if text[-1] in "。！？" else text + "。"
        text += f"还有，{_fill(rng.choice(other['problems']), rng, place)}。"
    if rng.random() < 0.12:
        plain, dialect = rng.choice(DIALECT)
        text = text.replace(plain, dialect)
    if rng.random() < 0.12:
        wrong, typo = rng.choice(TYPOS)
        text = text.replace(wrong, typo, 1)
    if rng.random() < 0.08:
        text += rng.choice(["联系电话", "我电话", "电话"]) + f"1390000{rng.randrange(10000):04d}"
    if rng.random() < 0.04:
        text = f"我叫{rng.choice(NAMES)}，{text}"
    return text, _fill(title, rng, place), seed["problems"].index(problem)


def main() -> None:
    import opencc

    to_traditional = opencc.OpenCC("s2t.json")
    seeds = yaml.safe_load((HERE / "training_seeds.yaml").read_text(encoding="utf-8"))
    classes = [(l1, l2, seed) for l1, children in seeds.items() for l2, seed in children.items()]
    rng = random.Random(SEED)
    rows, seen = [], set()
    for level1, level2, seed in classes:
        others = [c for c in classes if c[0] != level1]
        made = 0
        for _ in range(PER_CLASS * 20):
            if made == PER_CLASS:
                break
            text, title, problem = _compose(level1, level2, seed, rng, others)
            if rng.random() < 0.05:
                text, title = to_traditional.convert(text), to_traditional.convert(title)
            if text in seen:
                continue
            seen.add(text)
            rows.append(
                {
                    "level1": level1,
                    "level2": level2,
                    "title": title,
                    "text": text,
                    "problem": f"{level2}#{problem}",
                }
            )
            made += 1
    rng.shuffle(rows)
    with open(HERE / "training_opinions.csv", "w", encoding="utf-8", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=["level1", "level2", "title", "text", "problem"])
        writer.writeheader()
        writer.writerows(rows)
    print(
        f"wrote {len(rows)} opinions over {len(classes)} level-2 classes to {HERE / 'training_opinions.csv'}"
    )


if __name__ == "__main__":
    main()
