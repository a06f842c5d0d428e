"""The learned care model: the gazetteer and brands, features, inference and evidence, and how a model's
probabilities reach the `Classification` — each test names the behaviour it pins down."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from chalicelib.classify import Classifier
from chalicelib.classify.brands import Gazetteer, Operator
from chalicelib.classify.judgement import SPAM_MODEL_SURE
from chalicelib.classify.learned import FORMAT, CareModel, ModelError
from chalicelib.classify.lexicon import LexiconError
from chalicelib.cli.training import Layout
from chalicelib.model import Author, Post

POLICIES = Path(__file__).resolve().parents[2] / "policies"


@pytest.fixture(scope="module")
def lexicon_only() -> Classifier:
    return Classifier.from_policies(POLICIES, learned=False)


# --- the gazetteer and the brand ---------------------------------------------------------------------------


def test_gazetteer_covers_at_least_30_markets_with_mvnos(lexicon_only: Classifier) -> None:
    gazetteer: Gazetteer = lexicon_only.lexicon.gazetteer
    assert len(gazetteer.markets) >= 30
    assert {"mvno", "mobile", "broadband", "cable_tv"} <= {op.type for op in gazetteer.operators.values()}


def _operator_features(clf: Classifier, text: str, brand_id: str, handles: list[str]) -> set[str]:
    brand = clf.lexicon.gazetteer.brand(brand_id, handles)
    x = clf.model_input(text, brand=brand, kind="mention", addressed=True)
    return {name for name, _ in x.dense if name.startswith(("op:", "m:"))}


def test_a_competitor_is_any_operator_that_is_not_this_brand(lexicon_only: Classifier) -> None:
    text = "@GlobePH moving to Smart prepaid next week, done"
    to_globe = _operator_features(lexicon_only, text, "globe", ["globeph"])
    assert {"m:brand", "op:competitor", "op:switch"} <= to_globe
    # the same words to Smart's channel: Smart is us, and nobody else is named
    to_smart = _operator_features(lexicon_only, "moving to Smart prepaid next week", "smart", ["livesmart"])
    assert "op:brand" in to_smart and "op:competitor" not in to_smart


def test_competitors_work_for_an_operator_with_no_configuration_beyond_its_channel(lexicon_only: Classifier) -> None:
    found = _operator_features(lexicon_only, "@acme_help switching to Vodafone, bye", "acme", ["acme_help"])
    assert {"m:brand", "op:competitor", "op:switch"} <= found


def test_a_port_or_switch_says_which_way_it_goes_relative_to_this_brand(lexicon_only: Classifier) -> None:
    """Porting in from a rival is not churn; the words' direction is a feature for any brand."""
    coming = _operator_features(lexicon_only, "port my number from DITO to Globe please", "globe", ["globeph"])
    assert {"op:from_competitor", "op:to_brand"} <= coming
    assert not {"op:from_brand", "op:to_competitor"} & coming
    leaving = _operator_features(lexicon_only, "moving from Globe to DITO next month", "globe", ["globeph"])
    assert {"op:from_brand", "op:to_competitor"} <= leaving
    assert not {"op:from_competitor", "op:to_brand"} & leaving
    # the same words on DITO's channel point the other way
    at_dito = _operator_features(lexicon_only, "moving from Globe to DITO next month", "dito", ["ditocares"])
    assert {"op:from_competitor", "op:to_brand"} <= at_dito
    # no link word before the name: no direction
    still = _operator_features(lexicon_only, "Globe is down in Makati", "globe", ["globeph"])
    assert not {f for f in still if f.startswith(("op:to_", "op:from_"))}


def test_operator_names_reach_the_model_as_us_or_another_operator_whatever_the_operator(
    lexicon_only: Classifier,
) -> None:
    """Features 2: "from Globe to DITO" on Globe's channel reads as "from <us> to <operator>", the same words any
    brand's customers use; features 1 (models trained before) keep the names as words."""
    from chalicelib.classify.features import OPERATOR, US

    text = "moving from Globe to DITO next month, Globe signal is trash"
    globe = lexicon_only.lexicon.gazetteer.brand("globe", ["globeph"])
    x = lexicon_only.model_input(text, brand=globe, kind="mention", addressed=True)
    assert x.words == ["moving", "from", US, "to", OPERATOR, "next", "month", "signal", "is", "trash"]
    assert {f"b:from {US}", f"b:to {OPERATOR}", f"b:{US} signal"} <= set(x.pairs)
    assert not {"globe", "dito"} & set(x.words)
    # the same words to DITO's channel: DITO is us
    dito = lexicon_only.lexicon.gazetteer.brand("dito", ["ditocares"])
    y = lexicon_only.model_input(text, brand=dito, kind="mention", addressed=True)
    assert y.words[2] == OPERATOR and y.words[4] == US
    # a model trained on features 1 reads the names, as it was trained
    old = lexicon_only.with_model(CareModel(_tiny_model(lexicon_only)))
    z = old.model_input(text, brand=globe, kind="mention", addressed=True)
    assert {"globe", "dito"} <= set(z.words) and US not in z.words
    # the dense operator features are the same either way
    assert {n for n, _ in x.dense if n.startswith("op:")} == {n for n, _ in z.dense if n.startswith("op:")}


def test_a_domain_head_trained_on_other_features_than_the_care_model_is_refused(tmp_path: Path) -> None:
    import shutil

    policies = tmp_path / "policies"
    shutil.copytree(POLICIES, policies)
    general = policies / "model" / "general_model.json"
    care = json.loads((policies / "model" / "care_model.json").read_text(encoding="utf-8"))
    doc = json.loads(general.read_text(encoding="utf-8"))
    doc["features"] = care.get("features", 1) + 1
    general.write_text(json.dumps(doc), encoding="utf-8")
    with pytest.raises(ModelError, match=r"general_model\.json: trained on features .*retrain"):
        Classifier.from_policies(policies)
    # the same for a care model swapped in beside the shipped domain head (`carewire model diff --candidate`)
    shipped = Classifier.from_policies(POLICIES)
    other = CareModel({**care, "features": care.get("features", 1) + 1}, source="candidate.json")
    with pytest.raises(ModelError, match=r"general_model\.json: trained on features .* candidate\.json reads"):
        shipped.with_model(other)


def test_the_shipped_model_reads_porting_in_as_coming_and_porting_out_as_leaving() -> None:
    """What the README promises of the shipped weights: the same words, only the direction differs."""
    clf = Classifier.from_policies(POLICIES)
    brand = clf.lexicon.gazetteer.brand_named("Globe", "@talk2GLOBE")
    coming = clf.classify_text("@talk2GLOBE switching from DITO to Globe next week", brand=brand, kind="mention")
    leaving = clf.classify_text("@talk2GLOBE switching from Globe to DITO next week", brand=brand, kind="mention")
    assert not coming.churn_risk and coming.topic != "cancellation"
    assert leaving.churn_risk and leaving.topic == "cancellation"


@pytest.mark.parametrize(
    ("text", "brand_id"),
    [
        ("moving to Koodo next month, same network half the price", "telus"),  # a sub-brand sold under its own name
        ("switching to Afrihost fibre, bye", "cellc"),  # rivals in one market are not one operator
        ("switching to Free mobile next month", "orangefr"),
        ("porting my number out to Mobily next week", "stc"),
    ],
)
def test_another_brand_is_a_competitor_even_from_the_same_market_or_owner(
    lexicon_only: Classifier, text: str, brand_id: str
) -> None:
    found = _operator_features(lexicon_only, text, brand_id, [])
    assert {"op:competitor", "op:to_competitor"} <= found
    assert "op:brand" not in found


def test_a_colour_is_not_an_operator(lexicon_only: Classifier) -> None:
    found = _operator_features(lexicon_only, "modem light is orange and nothing loads", "optimum", [])
    assert "op:competitor" not in found


def test_everyday_words_that_are_also_operator_names_are_not_operators(lexicon_only: Classifier) -> None:
    found = _operator_features(lexicon_only, "three days and my smart tv still shows the sky", "bt", ["btcare"])
    assert "op:competitor" not in found


@pytest.mark.parametrize(
    ("text", "brand_id"),
    [
        ("3 days na walang signal dito sa Antipolo", "globe"),  # Tagalog "dito" is "here"
        ("Dito sa amin walang load na pumapasok", "smart"),
        ("ayer vi que subieron la tarifa otra vez", "movistar"),  # Spanish "vi" is "I saw"
        ("TNT Sports keeps buffering on the app tonight", "bt"),  # a TV channel, not the Philippine TNT
        ("not sure mobile data works here since the update", "jt"),  # Guernsey's Sure is named only with its island
        ("light is amber it blinks then goes off", "link3"),  # the colour, not Bangladesh's Amberit
        ("thanks for sorting it love you xox", "tunetalk"),  # a sign-off, not Malaysia's XOX
        ("ni mawingu tu leo, mvua inakuja", "vilcom"),  # Swahili "clouds", not Kenya's Mawingu
        ("it has to be redone, the tech left a mess", "astro"),  # the word, not Malaysia's redONE
    ],
)
def test_a_word_that_spells_an_operator_in_another_sense_is_not_one(
    lexicon_only: Classifier, text: str, brand_id: str
) -> None:
    assert "op:competitor" not in _operator_features(lexicon_only, text, brand_id, [])


@pytest.mark.parametrize(
    ("text", "brand_id"),
    [
        ("lilipat na ako sa DITO, sawang sawa na", "globe"),
        ("switching to Vi next month, Airtel is hopeless here", "airtelin"),
        ("porting to TNT next week, wala kayong signal", "smart"),
        ("leaving for Camtel fibre, this network is too slow", "orangecm"),
        ("porting to Digitel, Movilnet no sirve en mi zona", "movilnet"),
        ("cancelling, Omantel fibre is finally in my street", "ooredooom"),
        ("moving to redONE next month, the data here vanishes", "xox"),
        ("going with Sure Guernsey when my contract ends", "jt"),
    ],
)
def test_an_operator_written_as_its_brand_is_a_competitor_in_any_market(
    lexicon_only: Classifier, text: str, brand_id: str
) -> None:
    assert "op:competitor" in _operator_features(lexicon_only, text, brand_id, [])


def test_a_cased_name_must_be_one_word_and_not_also_a_plain_name() -> None:
    with pytest.raises(LexiconError, match="one word"):
        Gazetteer([Operator("x", "PH", "mobile", (), (), cased=("Two Words",))])
    with pytest.raises(LexiconError, match="both as a name and as a cased name"):
        plain = Operator("x", "PH", "mobile", ("dito",), ())
        Gazetteer([plain, Operator("y", "PH", "mobile", (), (), cased=("DITO",))])


def test_the_brand_comes_from_the_channel_not_the_example_lexicon(tmp_path: Path) -> None:
    policies = tmp_path / "policies"
    (policies / "lexicon").mkdir(parents=True)
    for f in (POLICIES / "lexicon").iterdir():
        (policies / "lexicon" / f.name).write_bytes(f.read_bytes())
    (policies / "channels.yaml").write_text(
        "channels:\n  - {id: x-jio, brand: jio, platform: x, brand_handles: [jiocare], brand_ids: ['7'],"
        " secret: {env: X}}\n",
        encoding="utf-8",
    )
    clf = Classifier.from_policies(policies)
    assert clf.brand_of("x-jio").operators == frozenset({"jio"})
    assert clf.classify_text("@JioCare no network since morning").addressed_to_brand
    # the example operator's handle is nobody's brand here
    assert not clf.classify_text("@bayanitelcares no network since morning").addressed_to_brand


def test_a_training_row_finds_its_operator_by_handle_or_name(lexicon_only: Classifier) -> None:
    gazetteer = lexicon_only.lexicon.gazetteer
    assert gazetteer.brand_named("Airtel India", "@Airtel_Presence").operators == frozenset({"airtelin"})
    assert "vodafoneuk" in gazetteer.brand_named("Vodafone UK", "@VodafoneUK").operators
    unknown = gazetteer.brand_named("Acme Mobile", "@acme")
    assert ("acme", "mobile") in unknown.names and "acme" in unknown.handles


# --- inference ---------------------------------------------------------------------------------------------


def _tiny_model(clf: Classifier, **extra: Any) -> dict[str, Any]:
    """A hand-made model: the word 'dead' means outage, needs a person and reads negative (word weights count
    scaled by 1/sqrt(the post's hashed keys), so they are large here)."""
    from chalicelib.classify.features import bucket

    layout = Layout.build()
    step = 0.001
    outage = layout.head("topic")["classes"].index("outage")
    negative = layout.head("sentiment")["start"]
    needs = layout.head("needs_human")["start"]
    row = f"{bucket('w:dead')},{outage},30000,{negative},25000,{needs},40000"
    doc = {
        "format": FORMAT,
        "dims": layout.dims,
        "step": step,
        "heads": layout.heads,
        "bias": [0] * layout.dims,
        "dense": {"kind:mention": [layout.head("spam")["start"], -3000]},
        "hashed": row,
        "intents": {},
        "temperature": {"topic": 1.0, "sentiment": 1.0},
        "platt": {},
        "thresholds": {"needs_human": 0.7, "spam": 0.5},
        "meta": {},
        "version": "care-test",
    }
    doc.update(extra)
    return doc


def test_the_model_decides_fields_rules_read_and_says_why(lexicon_only: Classifier) -> None:
    clf = lexicon_only.with_model(CareModel(_tiny_model(lexicon_only)))
    c = clf.classify_text("@bayanitelcares my line is dead", addressed_to_brand=True)
    assert (c.topic, c.sentiment.label, c.model) == ("outage", "negative", "care-test")
    assert c.topic_p == pytest.approx(c.topics["outage"]) and c.topic_p > 0.5
    assert c.needs_human["value"] is True and c.needs_human["p"] > 0.9
    assert c.sentiment.p is not None and c.sentiment.p["negative"] > 0.5
    assert c.evidence["topic"][0].startswith("outage: model p=") and "from 'dead' +" in c.evidence["topic"][0]
    assert any("lexicon" not in e and "dead" in e for e in c.evidence["needs_human"])
    # the lexicon's own reading is still there, after the model's line
    assert len(c.evidence["sentiment"]) > 1


def test_a_threshold_is_the_models_not_a_half(lexicon_only: Classifier) -> None:
    doc = _tiny_model(lexicon_only, thresholds={"needs_human": 0.99999999})
    c = lexicon_only.with_model(CareModel(doc)).classify_text("dead", addressed_to_brand=True)
    assert c.needs_human["value"] is False and c.needs_human["p"] > 0.9


def test_spam_or_unaddressed_never_needs_a_person(lexicon_only: Classifier) -> None:
    clf = lexicon_only.with_model(CareModel(_tiny_model(lexicon_only)))
    assert clf.classify_text("my line is dead", addressed_to_brand=False).needs_human["value"] is False


def test_without_a_model_the_lexicon_judges_and_says_so(lexicon_only: Classifier) -> None:
    c = lexicon_only.classify_text("@bayanitelcares why was I charged twice on my bill?", addressed_to_brand=True)
    assert (c.model, c.topic, c.topic_p, c.topics) == ("", "billing", 1.0, {})
    assert c.needs_human == {"value": True, "p": 1.0}


def test_the_classification_document_keeps_old_fields_and_adds_probabilities(lexicon_only: Classifier) -> None:
    clf = lexicon_only.with_model(CareModel(_tiny_model(lexicon_only)))
    post = Post("x", "x-care", "1", "1", Author("9"), "@bayanitelcares dead again", "t", addressed_to_brand=True)
    doc = clf.classify(post).to_doc()
    assert {"topic", "sentiment", "churn_risk", "urgency", "spam", "abuse", "addressed_to_brand"} <= set(doc)
    assert doc["sentiment"]["label"] == "negative" and set(doc["sentiment"]["p"]) == {"negative", "neutral", "positive"}
    assert set(doc["needs_human"]) == {"value", "p"} and set(doc["churn"]) == {"value", "p"}
    assert isinstance(doc["spam_p"], float)
    json.dumps(doc)  # stored with the decision: plain JSON


def test_hashed_rows_load_the_same_as_buckets_plus_rows_or_as_one_packed_string(
    lexicon_only: Classifier, tmp_path: Path
) -> None:
    """Format /2 writes each hashed block as `hashed_buckets` + rows (it loads in C); /1's packed string still loads."""
    old = _tiny_model(lexicon_only, format="carewire-care-model/1")
    key, _, row = old["hashed"].partition(",")
    new = _tiny_model(lexicon_only, hashed_buckets=[int(key)], hashed=row)
    text = "@bayanitelcares dead again"
    read = [lexicon_only.with_model(CareModel(doc)).classify_text(text, addressed_to_brand=True) for doc in (old, new)]
    assert read[0].to_doc() == read[1].to_doc()
    assert read[1].topic == "outage"
    broken = tmp_path / "care_model.json"
    broken.write_text(json.dumps(_tiny_model(lexicon_only, hashed_buckets=[1, 2], hashed=row)), encoding="utf-8")
    with pytest.raises(ModelError, match=r"care_model\.json.*2 hashed buckets but 1 rows"):
        CareModel.load(broken)


def test_a_broken_model_file_is_refused_naming_the_file(tmp_path: Path) -> None:
    bad = tmp_path / "care_model.json"
    bad.write_text('{"format": "something-else"}', encoding="utf-8")
    with pytest.raises(ModelError, match=r"care_model\.json"):
        CareModel.load(bad)
    bad.write_text("{not json", encoding="utf-8")
    with pytest.raises(ModelError, match=r"care_model\.json"):
        CareModel.load(bad)


def test_the_short_form_of_the_brands_own_name_is_not_a_competitor(lexicon_only: Classifier) -> None:
    brand = lexicon_only.lexicon.gazetteer.brand_named("Telkom Kenya", "@TelkomKenya")
    x = lexicon_only.model_input("Telkom no data since morning", brand=brand, kind="mention", addressed=True)
    names = {name for name, _ in x.dense}
    assert "op:brand" in names and "op:competitor" not in names


def test_the_message_replied_to_is_read_when_known(lexicon_only: Classifier) -> None:
    brand = lexicon_only.default_brand
    alone = lexicon_only.model_input("still nothing", brand=brand, kind="reply", addressed=True)
    replied = lexicon_only.model_input(
        "still nothing", brand=brand, kind="reply", addressed=True, context="Is your internet back? No signal?"
    )
    assert "ctx" not in dict(alone.dense)
    assert {"ctx", "ctx:lt:outage"} <= set(dict(replied.dense))
    assert "x:internet" in replied.pairs and replied.scale < alone.scale
    # the replied-to words' character n-grams too ("routers" shares "<rou", "oute" with "router"), never the post's own
    assert {"xc:<rou", "xc:oute"} <= set(
        lexicon_only.model_input("ok", brand=brand, kind="reply", addressed=True, context="Restart your routers").pairs
    )
    assert not any(k.startswith("xc:") for k in alone.pairs)


def test_a_cancellation_is_churn_risk_whatever_the_churn_head_says(lexicon_only: Classifier) -> None:
    from chalicelib.classify.features import bucket

    layout = Layout.build()
    cancel = layout.head("topic")["classes"].index("cancellation")
    churn = layout.head("churn")["start"]
    row = f"{bucket('w:cancel')},{cancel},40000,{churn},-40000"
    clf = lexicon_only.with_model(CareModel(_tiny_model(lexicon_only, hashed=row)))
    c = clf.classify_text("cancel", addressed_to_brand=True)
    assert c.topic == "cancellation" and c.churn["p"] < 0.5
    assert c.churn_risk and c.churn["value"]
    assert c.evidence["churn_risk"][0] == "yes: the topic is cancellation"


# --- general tweets: the care-vs-general domain head -----------------------------------------------------------


def _domain_head(care_bias: int) -> CareModel:
    """A domain head that says p(care) = sigmoid(care_bias * step) for every post (no word weights)."""
    doc = {
        "format": FORMAT,
        "dims": 1,
        "step": 0.001,
        "heads": [{"name": "care", "start": 0, "classes": ["yes"]}],
        "bias": [care_bias],
        "dense": {},
        "hashed": "",
        "platt": {"care": [1.0, 0.0]},
        "meta": {},
        "version": "general-test",
    }
    return CareModel(doc)


def test_a_post_the_domain_head_calls_general_reads_sentiment_as_general_tweets_do(lexicon_only: Classifier) -> None:
    care = lexicon_only.with_model(CareModel(_tiny_model(lexicon_only)))
    text = "the concert tonight is dead good, loved every song"
    care_only = care.classify_text(text, addressed_to_brand=True)
    # the hand-made care model reads 'dead' as negative whatever else the post says
    assert care_only.sentiment.label == "negative"
    general = care.with_general(_domain_head(-9000)).classify_text(text, addressed_to_brand=True)
    assert general.sentiment.label == "positive"
    assert "p(care)=0.00" in general.evidence["sentiment"][0]
    sure = care.with_general(_domain_head(9000)).classify_text(text, addressed_to_brand=True)
    assert sure.sentiment == care_only.sentiment


def test_a_conversation_on_the_brands_channel_is_care_whatever_the_words(lexicon_only: Classifier) -> None:
    clf = lexicon_only.with_model(CareModel(_tiny_model(lexicon_only))).with_general(_domain_head(-9000))
    text = "the concert tonight is dead good, loved every song"
    for kind in ("dm", "reply", "comment"):
        assert clf.classify_text(text, addressed_to_brand=True, kind=kind).sentiment.label == "negative"
    assert clf.classify_text(text, context="how was the show?").sentiment.label == "negative"


def test_the_shipped_domain_head_tells_general_tweets_from_care_posts() -> None:
    clf = Classifier.from_policies(POLICIES)
    assert clf.general is not None
    tweet = clf.classify_text("@user can't wait for the new season of the show tomorrow!!", addressed_to_brand=True)
    assert tweet.sentiment.label == "positive"
    assert "p(care)" in tweet.evidence["sentiment"][0]
    care = clf.classify_text("@user no internet since yesterday and nobody answers the phone", addressed_to_brand=True)
    assert care.sentiment.label == "negative"
    assert not any("p(care)" in e for e in care.evidence["sentiment"])


# --- scams addressed to the brand ------------------------------------------------------------------------------

SCAMS = (
    # care words (an outage, a bill, the account, a refund) do not make a scam a care post; the care model alone
    # reads each of these as not spam (p < its cut)
    "@acme_help Network outage compensation: every customer gets 20GB free data, verify your line at "
    "acme-compensation.net today",
    "@acme_help Your bill payment failed. To avoid disconnection reply with your card number and CVV",
    "@acme_help Dear customer your account will be suspended, confirm your password at acme-secure-login.com",
    "@acme_help Refund of $84.50 is waiting for you, claim your refund at acme-refunds.online before it expires",
    # fake support: a claim to be the brand's care and a way off the channel, no lure
    "Acme official agent here, I can restore your line and reverse the charge today. Text me 0791 228 334",
    "Acme Support here 👋 sorry for the trouble, WhatsApp our helpdesk on +44 7451 xxx 219 to get it fixed",
)
REPORTS = (
    "@acme_help got a text saying I won a $500 gift card, claim at acme-gift.co. is this you?? looks like a scam",
    "@acme_help my bill says free installation but I was charged $99, account 4417 2231 9901, please fix",
    "@acme_help I need my port out PIN to switch, the app won't show it",
    # a customer's own number, a complaint about an agent, a report of a fake agent: not scams
    "@acme_help no signal since Monday, please call me on 0722 123 456, I'm home all day",
    "@acme_help the agent here in the Main St store told me to call 0800 123 4567 and nobody answers",
    "@acme_help someone saying 'official agent here' told me to WhatsApp 0791 228 334, is that you?",
)


def _pack_actions(clf: Classifier, text: str) -> set[str]:
    from chalicelib.channels.config import load_channels
    from chalicelib.policy.context import context_document
    from chalicelib.policy.engine import plan
    from chalicelib.policy.loader import load_policy
    from chalicelib.policy.offline import DEFAULT_NOW, post_from_doc

    policy = load_policy(POLICIES)
    post, channel = post_from_doc(
        {"id": "1", "text": text, "addressed_to_brand": True}, load_channels(POLICIES / "channels.yaml")
    )
    c = clf.classify(post)
    return {a.type for a in plan(policy, context_document(post, c, channel, DEFAULT_NOW), post, c).actions}


@pytest.mark.parametrize("text", SCAMS)
def test_a_scam_addressed_to_the_brand_is_spam_whatever_its_topic_words_and_is_hidden(text: str) -> None:
    clf = Classifier.from_policies(POLICIES)
    c = clf.classify_text(text, addressed_to_brand=True)
    assert c.spam and not c.needs_human["value"]
    assert any(e.startswith("scam:") for e in c.evidence["spam"])
    actions = _pack_actions(clf, text)
    assert "hide" in actions and not actions & {"reply", "notice", "escalate"}


@pytest.mark.parametrize("text", REPORTS)
def test_a_customer_reporting_a_scam_or_naming_a_pin_is_not_spam(text: str) -> None:
    clf = Classifier.from_policies(POLICIES)
    c = clf.classify_text(text, addressed_to_brand=True)
    assert not c.spam
    assert "hide" not in _pack_actions(clf, text)


def test_a_report_that_quotes_the_scam_text_is_not_hidden_by_the_sms_spam_model() -> None:
    """The quoted text alone is what the SMS spam model was trained to catch (it is sure, p 0.99); the post around it
    asks whether it is real, so the lexicon reads a report and that model does not decide."""
    text = (
        'Hi Acme, my dad got an SMS "Acme: you won a Galaxy S24 in our lucky draw, pay $3 delivery at acme-prize.co"'
        " is it real?"
    )
    clf = Classifier.from_policies(POLICIES)
    x = clf.model_input(text, brand=clf.lexicon.gazetteer.brand("acme", []), kind="mention", addressed=True)
    assert dict(x.dense)["sp:p"] >= SPAM_MODEL_SURE  # the premise: the SMS model alone would hide it
    c = clf.classify_text(text, addressed_to_brand=True)
    assert not c.spam
    assert any(e.startswith("not a scam: reads as a report") for e in c.evidence["spam"])
    assert "hide" not in _pack_actions(clf, text)


WARNING = "CUIDADO: una cuenta 'Acme Soporte Oficial' pide los códigos por WhatsApp al 55 1234 5678. No son ellos"


def test_the_scam_rule_reads_a_warning_about_fake_support_as_a_report_not_a_scam() -> None:
    # the lexicon's reading alone (the next test: the care model's spam head over it)
    lexicon = Classifier.from_policies(POLICIES, learned=False)
    c = lexicon.classify_text(WARNING, addressed_to_brand=True)
    assert not c.spam
    assert "not a scam: reads as a report ('cuidado')" in c.evidence["spam"]
    scam = lexicon.classify_text(
        "Acme Soporte Oficial 👋 escríbenos por WhatsApp al 55 1234 5678 con tu NIP", addressed_to_brand=True
    )
    assert scam.spam and any(e.startswith("scam:") for e in scam.evidence["spam"])


def test_a_customers_warning_is_not_spam_even_when_the_spam_head_reads_the_quoted_scam() -> None:
    clf = Classifier.from_policies(POLICIES)
    assert clf.model is not None
    c = clf.classify_text(WARNING, addressed_to_brand=True)
    assert c.spam_p is not None and c.spam_p >= clf.model.thresholds["spam"]  # the premise: the head says spam
    assert not c.spam
    assert c.evidence["spam"][0].startswith("no: a customer's warning")
    assert "hide" not in _pack_actions(clf, WARNING)


@pytest.mark.parametrize(
    "text",
    [
        "NEW BTC OPPORTUNITY 🚀 Turn ₱5,000 into ₱50,000 in 7 days! 100% legit, join our Telegram t.me/pinoycryptoking",
        'Free Sling TV for life!!!! 🎉 Comment "YES" and visit sling-lifetime-free.com to claim. 100% real no scam',
    ],
)
def test_a_scam_that_calls_itself_legit_is_still_spam(text: str) -> None:
    """ "legit" and "no scam" read as a report to the lexicon, but scams write them too: only a warning's words
    overrule the spam head."""
    c = Classifier.from_policies(POLICIES).classify_text(text, addressed_to_brand=True)
    assert c.spam
    assert "hide" in _pack_actions(Classifier.from_policies(POLICIES), text)


def test_the_domain_head_summed_in_the_care_models_pass_gives_what_it_gives_alone() -> None:
    clf = Classifier.from_policies(POLICIES)
    assert clf.general is not None and clf.model is not None
    both = clf.model.with_domain(clf.general)
    assert both is not None
    for text in ("@user no internet since yesterday", "can't wait for the new season tomorrow!!", "ok", ""):
        x = clf.model_input(text, brand=clf.default_brand, kind="mention", addressed=True)
        alone = clf.model.predict(x)
        merged = both.predict(x)
        assert merged.probabilities.pop("care")["yes"] == clf.general.yes_probability(x)
        assert merged == alone


def _leaving_features(clf: Classifier, text: str) -> set[str]:
    x = clf.model_input(text, brand=clf.lexicon.gazetteer.brand("verizon", []), kind="mention", addressed=True)
    return {name for name, _ in x.dense if name.startswith(("sw:", "cx:"))}


def test_switching_language_is_read_without_knowing_the_rival(lexicon_only: Classifier) -> None:
    assert "sw:to" in _leaving_features(lexicon_only, "switching to whoever has signal, bye")
    assert "sw:to" in _leaving_features(lexicon_only, "im going with Zapnet next month")
    assert "sw:to" in _leaving_features(lexicon_only, "porting out to another carrier")
    assert "sw:to" not in _leaving_features(lexicon_only, "going to call again tomorrow")
    assert "sw:to" not in _leaving_features(lexicon_only, "moving to a new house, can I keep my plan")


def test_cancelling_the_service_is_told_from_cancelled_errands(lexicon_only: Classifier) -> None:
    assert _leaving_features(lexicon_only, "cancel my internet please") == {"cx:service"}
    assert {"cx:errand", "cx:past"} <= _leaving_features(lexicon_only, "you cancelled my tech appointment again")
    assert "cx:service" not in _leaving_features(lexicon_only, "charged for the line I cancelled in may")
    assert "cx:past" in _leaving_features(lexicon_only, "charged for the line I cancelled in may")


def test_the_gazetteer_knows_regional_fibre_and_mvnos_but_not_everyday_words(lexicon_only: Classifier) -> None:
    assert "op:switch" in _operator_features(lexicon_only, "switching to visible wireless", "verizon", [])
    assert "op:switch" in _operator_features(lexicon_only, "moving to EPB fiber next week", "xfinity", [])
    assert "op:competitor" not in _operator_features(lexicon_only, "the rain took my internet out", "vodacom", [])
    assert "op:competitor" not in _operator_features(lexicon_only, "I belong to the family plan", "telstra", [])
