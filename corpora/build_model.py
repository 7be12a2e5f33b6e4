"""Build corpora/models/builtin/, the built-in classifier that ships with Minyi.

Run from the project root after changing the corpus (``python corpora/build_training.py``):
``python corpora/build_model.py``. Deterministic: the model is trained on
corpora/training_opinions.csv only (with the default taxonomy, jieba tokenizer and sentence
encoder), and ``tests/nlp/classify/test_coldstart.py`` checks that building it again gives the
same predictions as the stored one. About a minute on two cores.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))  # the working tree's nlp/, not an installed one


def main() -> None:
    from nlp.classify import ColdStartClassifier
    from nlp.classify.stored import SHIPPED, write_model

    start = time.perf_counter()
    models, manifest = ColdStartClassifier().build()
    folder = write_model(HERE / SHIPPED, models, manifest)
    size = sum(f.stat().st_size for f in folder.iterdir())
    print(
        f"wrote {folder} ({size / 1e6:.1f} MB; {manifest['corpus_rows']} corpus rows, {len(manifest['labels'])} classes) in {time.perf_counter() - start:.0f} s"
    )


if __name__ == "__main__":
    main()
