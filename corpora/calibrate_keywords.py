"""Fit the default taxonomy's ``keyword_temperature`` on the labeled corpus.

Run from the project root: ``python corpora/calibrate_keywords.py``; it prints the temperature
with which the keyword rules' confidence best matches how often they are right on
corpora/training_opinions.csv. Copy it into taxonomy.yaml when the keywords or the corpus change
(a test fails when the two drift apart).
"""

from __future__ import annotations


def fitted_temperature() -> float:
    import pandas as pd

    from nlp.classify.lexicon import LexiconClassifier, fit_keyword_temperature
    from nlp.core.resources import corpus_path
    from nlp.text.normalize import Normalizer
    from nlp.text.segment import make_tokenizer

    frame = pd.read_csv(corpus_path("training_opinions.csv"), dtype=str, keep_default_na=False)
    texts = Normalizer().normalize_many(
        [f"{t}。{x}" if t else x for t, x in zip(frame["title"], frame["text"])]
    )
    lexicon = LexiconClassifier().fit()
    tokens = make_tokenizer("jieba", extra_words=lexicon.vocabulary).tokenize_many(texts)
    return fit_keyword_temperature(lexicon, tokens, frame["level1"].tolist())


if __name__ == "__main__":
    print(f"keyword_temperature: {fitted_temperature():.2f}")
