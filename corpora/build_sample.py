"""Build corpora/sample_opinions.csv, the demo quarterly export, from corpora/fragments.txt.

Run from the project root: ``python corpora/build_sample.py``. The output is deterministic (seeded).
Every fragment, place, name and phone number is invented by the Minyi project; phone numbers use
the 1390000xxxx and 0000-xxxxxxx shapes so they cannot reach a real person.
"""

from __future__ import annotations

import csv
import datetime as dt
import random
from pathlib import Path

HERE = Path(__file__).parent
SEED = 20240930
ROWS = 320

PLACES = [
    "青石村",
    "柳湾村",
    "河东村",
    "马家坪村",
    "松林村",
    "东关社区",
    "幸福里社区",
    "纺织厂宿舍",
    "桥南社区",
    "向阳小区",
]
TOWNS = {
    "青石村": "石桥镇",
    "柳湾村": "石桥镇",
    "河东村": "河口镇",
    "马家坪村": "河口镇",
    "松林村": "林场乡",
    "东关社区": "东关街道",
    "幸福里社区": "东关街道",
    "纺织厂宿舍": "城西街道",
    "桥南社区": "城西街道",
    "向阳小区": "城西街道",
}
SOURCES = ["接待日", "院落会", "扫码", "微信群", "12345", "电话"]
SOURCE_WEIGHTS = [3, 2, 4, 3, 3, 1]
NAMES = ["张德顺", "李秀兰", "王建国", "赵桂芳", "刘长福", "陈玉梅", "杨树林", "周国强"]
OPENERS = [
    "",
    "",
    "",
    "代表您好，",
    "领导好，",
    "你好，",
    "反映个问题：",
    "我是{place}的住户，",
    "我是{name}，",
]
CLOSERS = [
    "",
    "",
    "",
    "希望尽快解决！",
    "麻烦领导重视一下。",
    "盼回复。",
    "谢谢！",
    "大家意见都很大。",
    "！！！",
]
# Slips that people really make when typing on a phone: homophones and near-homophones.
TYPOS = [
    ("的", "地"),
    ("在", "再"),
    ("已经", "以经"),
    ("那", "哪"),
    ("反映", "反应"),
    ("交", "缴"),
    ("怎么", "咋"),
]
EMOJI = ["😡", "🙏", "👍", "😭"]


def main() -> None:
    import opencc

    to_traditional = opencc.OpenCC("s2t.json")
    rng = random.Random(SEED)
    fragments = []
    with open(HERE / "fragments.txt", encoding="utf-8") as f:
        for line in f:
            if line.strip() and not line.startswith("#"):
                topic, text = line.rstrip("\n").split("\t", 1)
                fragments.append((topic, text))
    start = dt.datetime(2024, 7, 1, 8, 0)
    rows, texts = [], []
    for n in range(ROWS):
        if texts and rng.random() < 0.08:
            text, place = rng.choice(texts)  # the same message sent again through another channel
        else:
            k = n if n < len(fragments) else rng.randrange(len(fragments))
            topic, text = fragments[k]
            # A matter is usually reported from the spot where it is: most reports of a fragment
            # come from its home place, some from elsewhere (the same trouble in another village).
            place = PLACES[k % len(PLACES)] if rng.random() < 0.8 else rng.choice(PLACES)
            text = rng.choice(OPENERS) + text.replace("{place}", place) + rng.choice(CLOSERS)
            text = text.replace("{place}", place).replace("{name}", rng.choice(NAMES))
            roll = rng.random()
            if roll < 0.12:
                text += (
                    rng.choice(["联系电话", "我电话", "手机", "电话"])
                    + f"1390000{rng.randrange(10000):04d}"
                )
            elif roll < 0.15:
                text += f"座机0000-{rng.randrange(1000000, 9999999)}"
            if rng.random() < 0.15:
                wrong, typo = rng.choice(TYPOS)
                text = text.replace(wrong, typo, 1)
            if rng.random() < 0.08:
                text = to_traditional.convert(text)
            if rng.random() < 0.06:
                text += rng.choice(EMOJI) * rng.randint(1, 3)
            if rng.random() < 0.05:
                text = "  " + text.replace("，", " ， ", 1) + "\n"
            texts.append((text, place))
        when = start + dt.timedelta(minutes=rng.randrange(91 * 24 * 60))  # 1 July to 30 September
        rows.append(
            {
                "编号": f"2024Q3-{n + 1:04d}",
                "来源": rng.choices(SOURCES, SOURCE_WEIGHTS)[0],
                "日期": when.strftime("%Y-%m-%d %H:%M"),
                "乡镇街道": TOWNS[place],
                "地点": place,
                "意见内容": text,
            }
        )
    rows[57]["意见内容"] = ""  # a form submitted empty
    rows[211]["意见内容"] = "   "
    with open(HERE / "sample_opinions.csv", "w", encoding="utf-8-sig", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {len(rows)} rows to {HERE / 'sample_opinions.csv'}")


if __name__ == "__main__":
    main()
