"""Behaviour of the classifier stage's lexicon reading (the learned model's evidence and its fallback): each
test names the behaviour it pins down."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from chalicelib.classify import Classifier
from chalicelib.model import Author, Post

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(scope="module")
def clf() -> Classifier:
    return Classifier.from_policies(POLICIES, learned=False)  # the lexicon: the model's evidence and fallback


def label(clf: Classifier, text: str) -> str:
    return clf.classify_text(text).sentiment.label


# --- sentiment ---------------------------------------------------------------------------------------------


def test_negation_flips_polarity(clf: Classifier) -> None:
    assert label(clf, "the new plan is good") == "positive"
    assert label(clf, "the new plan is not good") == "negative"
    assert label(clf, "the signal is bad") == "negative"
    assert label(clf, "honestly the signal is not bad") == "positive"


def test_intensifier_caps_and_elongation_raise_intensity(clf: Classifier) -> None:
    base = clf.classify_text("the app is slow").sentiment.score
    assert clf.classify_text("the app is really slow").sentiment.score < base
    assert clf.classify_text("the app is SLOW").sentiment.score < base
    happy = clf.classify_text("I am happy").sentiment.score
    assert clf.classify_text("I am sooooo happy").sentiment.score > happy


def test_sarcasm_reads_negative(clf: Classifier) -> None:
    c = clf.classify_text("Great, another outage. Thanks @BayaniTel")
    assert c.sentiment.label == "negative"
    assert any("sarcas" in e for e in c.evidence["sentiment"])
    assert label(clf, "Thanks for nothing, still no internet") == "negative"


def test_real_thanks_after_fix_is_positive_praise(clf: Classifier) -> None:
    c = clf.classify_text("@BayaniTelCares thank you, the outage is fixed and internet is working now")
    assert c.sentiment.label == "positive"


def test_emoji_and_contrast(clf: Classifier) -> None:
    assert label(clf, "new promo 😍😍") == "positive"
    assert label(clf, "new promo 😡") == "negative"
    assert label(clf, "the price is good but the signal is terrible") == "negative"


def test_profanity_at_brand_is_negative(clf: Classifier) -> None:
    assert label(clf, "@BayaniTel wtf is this shit") == "negative"


def test_neutral_without_opinion(clf: Classifier) -> None:
    assert label(clf, "What time does the store in Makati open tomorrow?") == "neutral"


# --- topic, intent, precedence ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "topic", "intent"),
    [
        ("no signal in Cubao since this morning", "outage", "no_signal"),
        ("my fiber internet is down again", "outage", "broadband_down"),
        ("I was charged twice this month", "billing", "overcharge"),
        ("when will I get my refund", "billing", "refund"),
        ("the technician never showed up for my installation", "account", "appointment"),
        ("where is my order, still no delivery", "device", "delivery"),
        ("I want to cancel my contract", "cancellation", "cancel"),
        ("walang internet dito sa Pasig", "outage", "broadband_down"),
    ],
)
def test_topic_and_intent(clf: Classifier, text: str, topic: str, intent: str) -> None:
    c = clf.classify_text(text)
    assert (c.topic, c.intent) == (topic, intent)


def test_precedence_cancellation_over_outage_over_billing(clf: Classifier) -> None:
    c = clf.classify_text("no signal for 3 days and you still charged me, I will cancel my plan")
    assert c.topic == "cancellation"
    assert "outage" in " ".join(c.evidence["topic"])
    c = clf.classify_text("no signal for 3 days and you still charged me for it")
    assert c.topic == "outage"


def test_praise_needs_positive_reading(clf: Classifier) -> None:
    assert clf.classify_text("@BayaniTel thank you so much, great service!").topic == "praise"
    assert clf.classify_text("@BayaniTel thanks for nothing, useless").topic != "praise"


def test_negative_post_to_brand_without_topic_is_service_complaint(clf: Classifier) -> None:
    c = clf.classify_text("you guys are the worst, seriously disappointed")
    assert c.topic == "service_complaint"
    assert clf.classify_text("had pizza for lunch").topic == "other"


# --- churn --------------------------------------------------------------------------------------------------


def test_churn_with_named_competitor(clf: Classifier) -> None:
    c = clf.classify_text("@BayaniTel 3 days no signal. switching to Globe tomorrow")
    assert c.churn_risk
    assert c.topic == "cancellation"
    assert c.intent == "switch_to_competitor"
    assert any("globe" in e for e in c.evidence["churn_risk"])


def test_competitor_named_without_switching_is_not_churn(clf: Classifier) -> None:
    assert not clf.classify_text("is Smart also down in Cebu or just BayaniTel?").churn_risk
    assert not clf.classify_text("can I switch to the postpaid plan?").churn_risk


def test_churn_phrases(clf: Classifier) -> None:
    assert clf.classify_text("I'm done with you, cancelling my line").churn_risk
    assert clf.classify_text("lilipat na ako sa DITO, bulok kayo").churn_risk


# --- language -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "lang"),
    [
        ("wala pa rin po internet dito", "tl"),
        ("Bakit ang bagal ng data ko ngayon?", "tl"),
        ("sobrang slow ng internet ko, pls fix naman", "tl"),
        ("mi internet no funciona desde ayer", "es"),
        ("¿por qué me cobraron dos veces?", "es"),
        ("my internet has been down since yesterday", "en"),
        ("12345 !!!", "unknown"),
        ("Привет как дела", "unknown"),
    ],
)
def test_language(clf: Classifier, text: str, lang: str) -> None:
    assert clf.classify_text(text).language == lang


# --- spam, abuse, question, urgency, addressee, gazetteer ---------------------------------------------------


def test_spam_flag(clf: Classifier) -> None:
    assert clf.classify_text("WINNER!! Claim your FREE prize now, click here http://bit.ly/x").spam
    assert clf.classify_text("check out my channel and subscribe!! http://youtube.com/x").spam
    assert not clf.classify_text("my internet is down, please help").spam


def test_insults_at_agents_are_abuse_but_profanity_at_service_is_not(clf: Classifier) -> None:
    assert clf.classify_text("your agents are useless idiots").abuse
    assert clf.classify_text("fuck you bayanitel").abuse
    c = clf.classify_text("this fucking signal is driving me crazy")
    assert not c.abuse
    assert c.sentiment.label == "negative"


def test_question_and_urgency(clf: Classifier) -> None:
    assert clf.classify_text("when will the outage be fixed?").is_question
    assert clf.classify_text("paano mag reset ng modem").is_question
    assert not clf.classify_text("no internet today").is_question
    calm = clf.classify_text("is there a new promo").urgency
    urgent = clf.classify_text("URGENT no internet for 3 days, I work from home!!").urgency
    assert urgent > 0.7 > calm


def test_addressed_to_brand_from_text(clf: Classifier) -> None:
    assert clf.classify_text("@BayaniTelCares my sim is blocked").addressed_to_brand
    assert clf.classify_text("you guys need to fix this").addressed_to_brand
    assert not clf.classify_text("@maria did your BayaniTel bill go up too?").addressed_to_brand
    assert clf.classify_text("@maria hi", addressed_to_brand=True).addressed_to_brand


def test_classify_takes_channel_decision(clf: Classifier) -> None:
    post = Post(
        platform="x",
        channel="x-main",
        post_id="1",
        conversation_id="1",
        author=Author(id="9"),
        text="@maria no signal again",
        created_at="2024-01-01T00:00:00Z",
        addressed_to_brand=True,
    )
    c = clf.classify(post)
    assert c.addressed_to_brand
    assert c.evidence["addressed_to_brand"]
    dm = Post(
        platform="x",
        channel="x-main",
        post_id="2",
        conversation_id="2",
        author=Author(id="9"),
        text="@BayaniTel hello",
        created_at="2024-01-01T00:00:00Z",
        addressed_to_brand=False,
    )
    assert not clf.classify(dm).addressed_to_brand


def test_regions_and_services_from_gazetteer(clf: Classifier) -> None:
    c = clf.classify_text("fiber down in Cubao and Ortigas, prepaid data also slow")
    assert c.regions == ("Quezon City", "Pasig")
    assert set(c.services) >= {"fiber", "prepaid", "mobile_data"}


def test_pii_spans_in_classification(clf: Classifier) -> None:
    text = "my number is 0917 123 4567, email me at juan@example.com"
    c = clf.classify_text(text)
    assert [p["type"] for p in c.pii] == ["phone", "email"]
    assert all(set(p) == {"type", "start", "end"} for p in c.pii)
    assert text[c.pii[1]["start"] : c.pii[1]["end"]] == "juan@example.com"


def test_deterministic_and_serialisable(clf: Classifier) -> None:
    text = "@BayaniTel great, another outage in Cebu!!! switching to Smart 😡 call me 09171234567"
    first = clf.classify_text(text).to_doc()
    again = Classifier.from_policies(POLICIES, learned=False).classify_text(text).to_doc()
    assert first == again
    assert "09171234567" not in repr(first)


def test_hand_written_care_posts(clf: Classifier) -> None:
    cases = yaml.safe_load((Path(__file__).resolve().parents[1] / "fixtures/classify/care_posts.yaml").read_text())
    for case in cases:
        c = clf.classify_text(case["text"]).to_doc()
        c["sentiment"] = c["sentiment"]["label"]
        expected = {k: v for k, v in case.items() if k != "text"}
        got = {k: c[k] for k in expected}
        assert got == expected, case["text"]


def test_thanks_for_a_fixed_problem_is_praise_but_open_problem_keeps_precedence(clf: Classifier) -> None:
    assert clf.classify_text("@BayaniTel thank you! my sim is fixed, great service").topic == "praise"
    assert clf.classify_text("@BayaniTel thank you, but my sim is still blocked").topic == "account"
