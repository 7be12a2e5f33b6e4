"""Build corpora/opinion_words.txt: in how many of the project's training opinions each word occurs.

Run from the project root after changing the corpus (``python corpora/build_training.py``):
``python corpora/build_opinion_words.py``. Deterministic: the opinions of
corpora/training_opinions.csv cut into words by the default tokenizer, as a run cuts its input.
``tests/nlp/clustering/test_words.py`` checks that building it again gives the stored file.

The counts say which words are common in opinions of every kind: the way letters and calls are
put (诉求, 恳请, 来电, 一是), where people live (小区, 村里) and what they ask for (补贴, 建设, 加快)
occur in hundreds of the corpus's opinions, while what a matter is about (商转公, 闸机, 搅拌站)
occurs in few or none. A post's words weigh less the more of these opinions they occur in
(:mod:`nlp.clustering.words`), so that two posts are told apart by what they are about rather
than drawn together by how such posts are written.
"""

from __future__ import annotations

import csv
import sys
from collections import Counter
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the working tree's nlp/, not an installed one

TARGET = HERE / "opinion_words.txt"


def opinion_words() -> str:
    """The file's text: a header line with the number of opinions, then ``word count`` lines,
    the commonest first (ties in the words' order)."""
    from nlp import Pipeline

    with open(HERE / "training_opinions.csv", encoding="utf-8", newline="") as f:
        texts = [row["text"] for row in csv.DictReader(f)]
    words = Pipeline().parts.tokenizer.tokenize_many(texts)
    counts = Counter(w for found in words for w in set(found) if len(w) > 1 and not w.isdigit())
    lines = [f"# opinions {len(texts)}"]
    lines += [f"{w} {n}" for w, n in sorted(counts.items(), key=lambda item: (-item[1], item[0]))]
    return "\n".join(lines) + "\n"


def main() -> None:
    text = opinion_words()
    TARGET.write_text(text, encoding="utf-8")
    print(f"wrote {TARGET} ({text.count(chr(10)) - 1} words)")


if __name__ == "__main__":
    main()
