"""The learned model's judgement over the lexicon's reading: probabilities in, `Classification` fields out.

Fields rules already read keep their meaning (`topic`, `sentiment.label`, `churn_risk`, `spam`, ...); each now
comes from the model's calibrated probability and its threshold, and the probabilities are there to read too
(`classification.needs_human.p`, `classification.churn.p`, `classification.spam_p`, `classification.topics`).
Each field's evidence starts with the model's line (probability, strongest features) and keeps the lexicon's
findings after it.
"""

from __future__ import annotations

from typing import Any

from chalicelib.classify.features import ModelInput
from chalicelib.classify.learned import CareModel
from chalicelib.classify.spam import NOT_A_SCAM, ScamReading
from chalicelib.model import Judged, Sentiment, SentimentLabel

DEFAULT_THRESHOLD = 0.5
SPAM_MODEL_SURE = 0.99
_LABELS: tuple[SentimentLabel, ...] = ("negative", "neutral", "positive")
_BINARY = (("churn", "churn_risk"), ("spam", "spam"), ("abuse", "abuse"), ("needs_human", "needs_human"))


def _why(label: str, p: float, strongest: list[str] | None) -> str:
    return f"{label}: model p={p:.2f}" + (" from " + ", ".join(strongest) if strongest else "")


def apply_model(  # noqa: PLR0915
    fields: dict[str, Any],
    model: CareModel,
    x: ModelInput,
    *,
    scam: ScamReading = NOT_A_SCAM,
) -> float | None:
    """Overwrite the lexicon's `Classification` fields in place with the model's judgement. `scam`, the lexicon's
    reading: a scam aimed at the brand's customers is spam whatever the model says; a scam reported keeps the SMS
    spam model, which reads the quoted scam, from deciding; a warning (reported in words a scam does not write about
    itself) is not spam whatever the model says, since the model reads the quoted scam too. Returns p(care) when the
    model carries a domain head (`CareModel.with_domain`)."""
    probs, strongest = model.predict(x)
    th = model.thresholds
    evidence: dict[str, list[str]] = fields["evidence"]
    fields["model"] = model.version

    topics = probs.get("topic")
    if topics:
        topic = max(topics, key=topics.__getitem__)
        p = topics[topic]
        if topic != fields["topic"]:
            fields["intent"] = None
            evidence.pop("intent", None)
        fields["topic"] = topic
        fields["topic_p"] = round(p, 4)
        fields["topics"] = {k: round(v, 4) for k, v in topics.items()}
        evidence["topic"] = [_why(topic, p, strongest.get("topic")), *evidence.get("topic", ())]
        intents = probs.get("intent")
        if intents:
            intent = max(intents, key=intents.__getitem__)
            fields["intent"] = None if intent == "general" else intent
            fields["intent_p"] = round(intents[intent], 4)
            evidence["intent"] = [f"{topic}/{intent} p={intents[intent]:.2f}"]

    senti = probs.get("sentiment")
    if senti:
        label = max(_LABELS, key=senti.__getitem__)
        p_neg, p_neu, p_pos = senti["negative"], senti["neutral"], senti["positive"]
        # `score` stays the lexicon's intensity (anger, urgency and priorities read it as they always did); the
        # label and the probabilities are the model's
        fields["sentiment"] = Sentiment(
            label,
            fields["sentiment"].score,
            {"negative": round(p_neg, 4), "neutral": round(p_neu, 4), "positive": round(p_pos, 4)},
        )
        evidence["sentiment"] = [_why(label, senti[label], strongest.get("sentiment")), *evidence["sentiment"]]

    judged: dict[str, Judged] = {}
    for head, field in _BINARY:
        found = probs.get(head)
        if not found:
            continue
        p = found["yes"]
        cut = th.get(head, DEFAULT_THRESHOLD)
        value = p >= cut
        judged[head] = Judged(value=value, p=round(p, 4))
        line = _why("yes" if value else "no", p, strongest.get(head)) + f" (cut {cut:.2f})"
        evidence[field] = [line, *evidence.get(field, ())]
    if "churn" in judged:
        churn = judged["churn"]
        if not churn["value"] and fields["topic"] == "cancellation":
            # whoever asks to cancel, port out or switch shows churn risk, whatever the churn head's own p
            churn = Judged(value=True, p=churn["p"])
            evidence["churn_risk"].insert(0, "yes: the topic is cancellation")
        fields["churn"] = churn
        fields["churn_risk"] = churn["value"]
    if "spam" in judged:
        fields["spam"] = (judged["spam"]["value"] and not scam.warned) or scam.scam
        fields["spam_p"] = judged["spam"]["p"]
        if scam.scam and not judged["spam"]["value"]:
            evidence["spam"].insert(0, "yes: a scam (the lexicon's reading below), whatever the model's p")
        elif scam.warned and judged["spam"]["value"]:
            evidence["spam"].insert(0, "no: a customer's warning about a scam (the lexicon's reading below)")
        if not fields["spam"] and fields["topic"] in ("other", "praise") and not scam.reported:
            # The spam model of the lexicon (SMS and comment spam) when it is sure and there is no care topic —
            # unless the post reports a scam: quoting the scam's text ("my friend got an SMS 'You won...'") makes
            # that model sure, and a warning is not spam.
            sure = next((v for name, v in x.dense if name == "sp:p"), 0.0)
            if sure >= SPAM_MODEL_SURE:
                fields["spam"] = True
                evidence["spam"].insert(0, f"yes: the spam model is sure (p={sure:.3f}) and there is no care topic")
    if "abuse" in judged:
        fields["abuse"] = judged["abuse"]["value"] or fields["abuse"]
        fields["abuse_p"] = judged["abuse"]["p"]
    addressed = probs.get("addressed")
    if addressed and fields["addressed_to_brand"]:
        p = addressed["yes"]
        cut = th.get("addressed", 0.0)
        if p < cut:  # the platform says it reaches us; the words say people are talking among themselves
            fields["addressed_to_brand"] = False
            evidence["addressed_to_brand"].append(f"but it talks to others: model p(addressed)={p:.2f} < {cut:.2f}")
    needs = judged.get("needs_human")
    if needs is not None:
        if fields["spam"] or not fields["addressed_to_brand"]:
            needs = Judged(value=False, p=needs["p"])
        fields["needs_human"] = needs
    care = probs.get("care")
    return care["yes"] if care is not None else None


CARE_SURE = 0.98
"""p(care) from which the care model's sentiment stands alone"""


def blend_general_sentiment(fields: dict[str, Any], d: float, general: tuple[float, float, float]) -> None:
    """A post that is not about care (a general tweet that reaches the brand) reads sentiment as general tweets do:
    p = d * the care model's + (1 - d) * the lexicon's general calibration (trained on tweets), d = p(care) from
    the domain head.
    The care model learned from posts to care accounts, where most posts are complaints; on general tweets its
    prior says negative."""
    senti: Sentiment = fields["sentiment"]
    if senti.p is None:
        return
    if d >= CARE_SURE:
        return
    mixed = {k: d * senti.p[k] + (1.0 - d) * g for k, g in zip(_LABELS, general, strict=True)}
    label = max(_LABELS, key=mixed.__getitem__)
    fields["sentiment"] = Sentiment(label, senti.score, {k: round(v, 4) for k, v in mixed.items()})
    line = (
        f"{label}: p(care)={d:.2f}, so {1 - d:.0%} of the general reading "
        f"(p neg/neu/pos {general[0]:.2f}/{general[1]:.2f}/{general[2]:.2f})"
    )
    fields["evidence"]["sentiment"].insert(0, line)
