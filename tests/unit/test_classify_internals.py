"""The fast paths inside the classifier give the same answers as the plain definitions they replace."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path

import pytest
import yaml

from chalicelib import pii
from chalicelib.classify import Classifier
from chalicelib.classify.lexicon import PhraseMatcher, _Loader, number_maps
from chalicelib.classify.sentiment import SentimentModel, score_sentiment, sentiment_features
from chalicelib.classify.spam import SpamModel, spam_features, spam_probability
from chalicelib.classify.text import phrase_tokens, text_stats, tokenize
from chalicelib.pii import find_pii, find_pii_counted

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
    return Classifier.from_policies(POLICIES, learned=False)  # the lexicon: the model's evidence and fallback


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


# ---------------------------------------------------------------------------------------------------- one-pass scanner

SCANNER_POSTS = [
    *POSTS,
    "the the the network network is down down again again, the network is down",  # repeated words and pairs
    "#Fail #fail @BayaniTel @bayanitel :) :( ^_^ <3 😡 ¿que? ¡no! _ __init__ a_b",
    "call 0917-123-4567 or ٠٩١٧١٢٣٤٥٦٧ x² ref 12345678 abc12345def 1234",  # unicode digits, superscript, runs
    "WHY IS IT DOWN?? !! sooo baaad, goooood, I'M DONE",
    "no no no signal sa cubao, wala pa rin po, salamat po",
    "FREE FREE prize!!! click click here http://bit.ly/x www.example.com/y",
    "e\u0301 caf\u00e9 na\u00efve \u200d\ufe0f",
]


def _plain_scan(clf: Classifier, text: str) -> tuple[object, ...]:
    """What the scanner must give, from the plain definitions."""
    lex = clf.lexicon
    tokens = tokenize(text)
    word_tokens = [t for t in tokens if t.kind in ("word", "hashtag")]
    words = [t.norm for t in word_tokens]
    scan = lex.scan(words)
    mentions = [t.norm.lstrip("@") for t in tokens if t.kind == "mention"]
    return (
        tokens,
        word_tokens,
        words,
        text_stats(tokens),
        mentions,
        re.search(r"\d", text) is not None,
        sum(map(str.isdigit, text)) if re.search(r"\d", text) else None,
        re.search(r"\d{5,}", text) is not None,
        {slot: scan.find(m) for slot, m in enumerate(lex.word_index().matchers)},
        scan.lang_counts,
    )


def _fast_scan(clf: Classifier, text: str) -> tuple[object, ...]:
    got = clf._scanner.scan(text)
    matchers = clf.lexicon.word_index().matchers
    return (
        got.tokens,
        got.word_tokens,
        got.words,
        got.stats,
        got.mentions,
        got.decimal,
        got.digits if got.decimal else None,
        got.run5,
        {slot: got.scan.find(m) for slot, m in enumerate(matchers)},
        got.scan.lang_counts,
    )


@pytest.mark.parametrize("text", SCANNER_POSTS)
def test_scanner_gives_what_the_plain_definitions_give(clf: Classifier, text: str) -> None:
    assert _fast_scan(clf, text) == _plain_scan(clf, text)
    assert _fast_scan(clf, text) == _plain_scan(clf, text)  # second time from the memo


@pytest.mark.parametrize("text", SCANNER_POSTS)
def test_scanner_spam_sums_equal_the_feature_definition(clf: Classifier, text: str) -> None:
    model = clf.lexicon.spam_model
    assert model is not None and clf._spam_model is not None
    got = clf._scanner.scan(text)
    tokens = tokenize(text)
    money = re.search(r"\d", text) is not None and spam_features(text, tokens, got.words) >= {"$money"}
    fast = clf._spam_model.probability_from(
        got.spam_unigrams, got.spam_bigrams, got.stats, len(got.words), money, got.run5
    )
    assert fast == pytest.approx(spam_probability(model, spam_features(text, tokens, got.words)), abs=1e-9)
    assert fast == pytest.approx(clf._spam_model.probability(text, got.stats, got.words), abs=1e-12)


def test_scanner_memo_eviction_keeps_answers(clf: Classifier, monkeypatch: pytest.MonkeyPatch) -> None:
    from chalicelib.classify import scanner

    expected = [_plain_scan(clf, t) for t in SCANNER_POSTS]
    monkeypatch.setattr(scanner, "CACHE_MAX", 3)  # evict all the time
    fresh = Classifier(clf.lexicon)
    for _ in range(3):
        assert [_fast_scan(fresh, t) for t in SCANNER_POSTS] == expected
    assert len(fresh._scanner._cache) <= 3


def test_scanner_memo_belongs_to_its_classifier(clf: Classifier) -> None:
    text = "FREE prize, click here now"
    assert clf._scanner.scan(text).spam_unigrams != 0
    without_spam = Classifier(dataclasses.replace(clf.lexicon, spam_model=None))
    assert without_spam._scanner.scan(text).spam_unigrams == 0  # not the other classifier's memo
    assert without_spam.classify_text(text).to_doc()["evidence"]["spam"][-1].startswith("score ")


@pytest.mark.parametrize("text", SCANNER_POSTS)
def test_calibration_without_feature_dict_is_exact(clf: Classifier, text: str) -> None:
    model = clf._sentiment_model
    assert model is not None
    tokens = tokenize(text)
    word_tokens = [t for t in tokens if t.kind in ("word", "hashtag")]
    stats = text_stats(tokens)
    senti = score_sentiment(clf.lexicon, stats, clf.lexicon.scan([t.norm for t in word_tokens]), word_tokens)
    for score in (senti.score, -0.7, 0.0):
        plain = model.probabilities(sentiment_features(senti, score, stats, word_tokens))
        assert model.probabilities_of(senti, score, stats, len(word_tokens)) == plain


@pytest.mark.parametrize("text", SCANNER_POSTS)
def test_pii_with_known_digits_equals_find_pii(clf: Classifier, text: str) -> None:
    got = clf._scanner.scan(text)
    assert find_pii_counted(text, got.decimal, got.digits) == find_pii(text)


@pytest.mark.parametrize(
    "text",
    ["a@b", "@b", "a@", "x.@-", "+@_", " @x", "mail me: juan@globe.com.ph", "@@x", "é@ü", "a @b", "a@ b"],
)
def test_email_cue_matches_its_plain_form(text: str) -> None:
    assert (pii._EMAIL_CUE.search(text) is not None) == (re.search(r"[\w.+-]@[\w-]", text) is not None)


def test_account_cue_is_part_of_every_account_match(clf: Classifier) -> None:
    account = dict(pii._PATTERNS)["account"]
    for text in [*SCANNER_POSTS, "acct# AB1-2-3-4", "ticket no. 1---2", "id:12-34", "case 123456789"]:
        for m in account.finditer(text):
            assert pii._ACCOUNT_CUE.search(m.group(0)) is not None


# ---------------------------------------------------------------------------------------------------- load-time paths


def test_phrase_tokens_fast_path_splits_like_posts(clf: Classifier) -> None:
    lexicon = [text for m in clf.lexicon.word_index().matchers for opts in m._by_first.values() for _, text, _ in opts]
    assert len(lexicon) > 5000
    phrases = [*lexicon, "sooo", "ABC", "abc", "123", "a1", "café", "can't", "no one", "zzz", "a_b", "x²"]
    for phrase in phrases:
        assert phrase_tokens(phrase) == tuple(t.norm for t in tokenize(phrase) if t.kind in ("word", "hashtag"))


def test_number_maps_equals_the_yaml_loader_or_declines() -> None:
    general = (POLICIES / "lexicon" / "sentiment_general.yaml").read_text(encoding="utf-8")
    fast = number_maps(general)
    assert fast is not None
    reference = yaml.load(general, Loader=_Loader)
    assert fast == reference
    for key in reference:
        assert list(fast[key].items()) == list(reference[key].items())  # same order
        assert [type(v) for v in fast[key].values()] == [type(v) for v in reference[key].values()]
    declined = [
        "words:\n  true: 1.0\n",  # a bool to YAML
        "words:\n  ok: 1.0  # comment\n",
        "words:\n  ok: 1e3\n",
        "words:\n\tok: 1.0\n",
        "words:\n  ok: 1.0\r\n",
        "words:\nother:\n  ok: 1.0\n",  # a null mapping
        "words:\n  ok: 1.0\nwords:\n  ok: 2.0\n",
        "words:\n    ok: 1.0\n",
        "  ok: 1.0\n",
        "words: {ok: 1.0}\n",
        "- ok\n",
        "",
    ]
    for text in declined:
        assert number_maps(text) is None, text
    accepted = 'a:\n  "no": -0\n  x: -0.0\n  w: 2\n  w: 3.50\n# note\n\nb:\n  z: 0\n  yes: 1\n  on: 2\n'
    assert number_maps(accepted) == yaml.load(accepted, Loader=_Loader)


def test_the_lexicon_reads_yes_no_on_off_as_words_not_booleans(clf: Classifier) -> None:
    """YAML 1.1 reads yes/no/on/off as booleans, which turned the negator "no" into the word "false"."""
    assert yaml.load("[yes, no, on, off, y, n, true, False]", Loader=_Loader) == [
        "yes",
        "no",
        "on",
        "off",
        "y",
        "n",
        True,
        False,
    ]
    lex = clf.lexicon
    assert "no" in lex.negators and "false" not in lex.negators
    assert {"no", "yes"} <= lex.languages["en"] and "no" in lex.languages["es"]


def test_a_compiled_lexicon_reads_what_its_yaml_reads_and_never_a_stale_copy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from chalicelib.classify import lexicon as lexicon_module
    from chalicelib.classify.lexicon import COMPILED, compile_lexicon, load_yaml

    lexicon = tmp_path / "lexicon"
    shutil.copytree(POLICIES / "lexicon", lexicon)
    plain = {p.name: load_yaml(p) for p in sorted(lexicon.glob("*.yaml"))}
    held = compile_lexicon(lexicon)
    assert held == sorted(plain) and (lexicon / COMPILED).is_file()
    # the YAML files are not parsed again: swap the parser out and every file still loads, as it did
    with monkeypatch.context() as patched:
        patched.setattr(yaml, "load", lambda *_a, **_k: pytest.fail("parsed YAML although the compiled file has it"))
        patched.setattr(
            lexicon_module, "number_maps", lambda _t: pytest.fail("parsed although the compiled file has it")
        )
        assert {p.name: load_yaml(p) for p in sorted(lexicon.glob("*.yaml"))} == plain
    # no two callers share one parsed document
    first = load_yaml(lexicon / "scam.yaml")
    first["lures"].append("mutated")
    assert "mutated" not in load_yaml(lexicon / "scam.yaml")["lures"]
    # a file edited after compiling is read from its YAML
    scam = lexicon / "scam.yaml"
    scam.write_text(scam.read_text(encoding="utf-8").replace("  - giveaway\n", "  - sweepstakes\n"), encoding="utf-8")
    lures = load_yaml(scam)["lures"]
    assert "sweepstakes" in lures and "giveaway" not in lures
    # a compiled file that is not JSON, or not a map of files, is passed over: every file is parsed from its YAML
    for broken in (b"{not json", b"\xff\xfe", b"[1, 2]"):
        (lexicon / COMPILED).write_bytes(broken)
        lexicon_module._compiled.pop(lexicon, None)
        assert {p.name: load_yaml(p) for p in sorted(lexicon.glob("*.yaml")) if p.name != "scam.yaml"} == {
            n: d for n, d in plain.items() if n != "scam.yaml"
        }


def test_the_package_ships_a_compiled_lexicon_that_classifies_as_the_yaml_does(tmp_path: Path) -> None:
    import shutil

    from chalicelib.classify.lexicon import COMPILED
    from chalicelib.packaging import validate_policies

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies, ignore=shutil.ignore_patterns("tests"))
    validate_policies(policies)
    assert (policies / "lexicon" / COMPILED).is_file()
    packaged = Classifier.from_policies(policies)
    repo = Classifier.from_policies(POLICIES)
    for text in ("@user no signal since yesterday, fix it", "switching to DITO next week", "thanks, all good now!"):
        assert packaged.classify_text(text, addressed_to_brand=True) == repo.classify_text(
            text, addressed_to_brand=True
        )
