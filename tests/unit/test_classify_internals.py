"""The fast paths inside the classifier give the same answers as the plain definitions they replace."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from chalicelib.classify import Classifier
from chalicelib.classify.lexicon import PhraseMatcher
from chalicelib.classify.sentiment import SentimentModel
from chalicelib.classify.spam import SpamModel, spam_features, spam_probability
from chalicelib.classify.text import text_stats, tokenize
from chalicelib.pii import find_pii

POLICIES = Path(__file__).resolve().parents[2] / "policies"

POSTS = [
    "@BayaniTel 3 days no signal in Cubao!!! switching to Globe, I want a refund",
    "your agents are useless idiots, fix my fiber",
    "WINNER!! Claim your FREE prize now, click here http://bit.ly/x call 09171234567",
    "sobrang bagal ng internet ko ngayon, pls fix naman po",
    "Thanks for nothing, still no internet 😡 #fail",
    "I am sooooo happy with the new promo :) disconnected? no, reconnected",
    "mi internet no funciona desde ayer",
    "",
]


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.from_policies(POLICIES)


def words_of(text: str) -> list[str]:
    return [t.norm for t in tokenize(text) if t.kind in ("word", "hashtag")]


@pytest.mark.parametrize("text", POSTS)
def test_shared_index_finds_what_each_matcher_finds_alone(clf: Classifier, text: str) -> None:
    lex = clf.lexicon
    words = words_of(text)
    scan = lex.scan(words)
    matchers = [getattr(lex, f.name) for f in dataclasses.fields(lex)]
    matchers = [m for m in matchers if isinstance(m, PhraseMatcher)]
    assert len(matchers) > 10
    for m in matchers:
        assert scan.find(m) == m.find_all(words)


def test_shared_index_counts_language_cue_words(clf: Classifier) -> None:
    lex = clf.lexicon
    assert lex.index is not None
    scan = lex.scan(words_of("wala pa rin po internet dito 2"))
    counts = dict(zip(lex.index.language_codes, scan.lang_counts, strict=True))
    assert counts["tl"] >= 4
    assert counts["tl"] > counts["es"] + counts["en"]


def test_tokenize_is_stable_across_calls_and_cache() -> None:
    text = "SOOOO slow!!! @BayaniTel :( #fail http://x.co/a 😡"
    first = tokenize(text)
    assert tokenize(text) == first
    kinds = [t.kind for t in first]
    assert kinds == ["word", "word", "punct", "punct", "punct", "mention", "emo", "hashtag", "url", "sym"]
    assert first[0].norm == "soo" and first[0].elongated and first[0].caps


def test_text_stats_counts_once() -> None:
    stats = text_stats(tokenize("WHY IS IT DOWN?? !! @x http://a.b #fail sooo bad :("))
    assert (stats.exclaims, stats.caps, stats.url, stats.mention, stats.question, stats.hashtag) == (
        2,
        4,
        True,
        True,
        True,
        True,
    )
    assert stats.elongated == [5]
    assert not stats.all_caps
    assert text_stats(tokenize("WHY IS IT DOWN")).all_caps


@pytest.mark.parametrize("text", POSTS)
def test_compiled_spam_model_equals_feature_definition(clf: Classifier, text: str) -> None:
    model = clf.lexicon.spam_model
    assert model is not None
    tokens = tokenize(text)
    words = [t.norm for t in tokens if t.kind in ("word", "hashtag")]
    fast = SpamModel(model).probability(text, text_stats(tokens), words)
    assert fast == pytest.approx(spam_probability(model, spam_features(text, tokens, words)), abs=1e-9)


def test_sentiment_calibration_reports_its_probabilities(clf: Classifier) -> None:
    assert clf.lexicon.sentiment_model is not None
    c = clf.classify_text("@BayaniTel the new plan is great, thank you!")
    assert c.sentiment.label == "positive"
    assert any("calibrated p(neg/neu/pos)" in e for e in c.evidence["sentiment"])
    lexicon_only = Classifier(dataclasses.replace(clf.lexicon, sentiment_model=None))
    assert not any("calibrated" in e for e in lexicon_only.classify_text("great").evidence["sentiment"])


def test_sentiment_calibration_needs_a_neutral_band(clf: Classifier) -> None:
    assert clf.classify_text("the store opens at 9 tomorrow").sentiment.label == "neutral"
    assert clf.classify_text("the store opens at 9 tomorrow, terrible service").sentiment.label == "negative"


def test_sentiment_model_rejects_other_label_orders() -> None:
    with pytest.raises(ValueError, match="classes"):
        SentimentModel({"classes": ["positive", "neutral", "negative"], "weights": {}})
    probs = SentimentModel({"weights": {"$bias": [0.0, 0.0, 0.0]}}).probabilities({"$bias": 1.0})
    assert probs == pytest.approx((1 / 3, 1 / 3, 1 / 3))


def test_sentiment_features_are_lexicon_and_shape_only(clf: Classifier) -> None:
    feats = clf.sentiment_features("@BayaniTel WHY is my internet down again?? #fail")
    assert all(k.startswith("$") for k in feats)
    assert feats["$score"] < 0 and feats["$neg"] > 0
    assert {"$question", "$mention", "$hashtag"} <= set(feats)


@pytest.mark.parametrize(
    ("text", "types"),
    [
        ("write to juan.dela.cruz@example.com please", ["email"]),
        ("@user @BayaniTel no email here", []),
        ("nasa Brgy. San Antonio po ako", ["address"]),
        ("no digits, no at sign, nothing", []),
        ("ref 12345678 and @BayaniTel", ["account"]),
    ],
)
def test_pii_cheap_cues_do_not_skip_real_spans(text: str, types: list[str]) -> None:
    assert [s["type"] for s in find_pii(text)] == types
