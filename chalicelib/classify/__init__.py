"""The classifier stage: one `Classification` per post, every field with the evidence that produced it.

All vocabulary comes from `policies/lexicon/` (loaded once by `Classifier.from_policies`); the code is generic.
Pure Python, deterministic, no network.
"""

from __future__ import annotations

import dataclasses
import math
import pathlib
from collections.abc import Mapping
from typing import Any, NamedTuple

from chalicelib.classify.brands import Brand, channel_brands
from chalicelib.classify.features import (
    FEATURES,
    LexiconReading,
    ModelInput,
    PostShape,
    context_char_keys,
    model_input,
)
from chalicelib.classify.judgement import apply_model, blend_general_sentiment
from chalicelib.classify.language import detect_language
from chalicelib.classify.learned import GENERAL_FILE, MODEL_FILE, CareModel, ModelError
from chalicelib.classify.lexicon import Lexicon, LexiconError, Scan
from chalicelib.classify.scanner import PostScanner
from chalicelib.classify.sentiment import (
    SentimentModel,
    SentimentResult,
    score_sentiment,
    sentiment_features,
)
from chalicelib.classify.spam import ScamReading, SpamModel, abuse_flags, has_money, scam_flags, spam_cue_score
from chalicelib.classify.text import TextStats, Token, text_stats, tokenize
from chalicelib.classify.topic import addressed_by_text, churn, find_topic, is_question, urgency
from chalicelib.model import Classification, Judged, Post, Sentiment, SentimentLabel
from chalicelib.pii import find_pii_counted

__all__ = ["Brand", "CareModel", "Classifier", "LexiconError"]

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
CHURN_AT = 0.5
SPAM_CUT = 0.5
SPAM_CUT_COMPLAINT = 0.85
PROFANITY_PENALTY = 0.6
"""Profanity in a post to or about the brand reads negative even without a lexicon word."""


CARE_TOPICS = frozenset({"outage", "billing", "device", "account", "cancellation", "service_complaint"})


class Classifier:
    """The lexicon's reading of a post, and — when `policies/model/care_model.json` is present — the learned
    model's judgement on top of it (`model=None`: the lexicon alone, as before the model existed)."""

    def __init__(
        self,
        lexicon: Lexicon,
        model: CareModel | None = None,
        brands: Mapping[str, Brand] | None = None,
        general: CareModel | None = None,
    ) -> None:
        self.lexicon = lexicon
        self.model = model
        self.general = general if model is not None else None
        if model is not None and self.general is not None and self.general.features != model.features:
            # one ModelInput feeds both: a head read on other inputs than it learned from would judge silently wrong
            raise ModelError(
                f"{self.general.source or 'the domain head'}: trained on features {self.general.features}, but "
                f"{model.source or 'the care model'} reads features {model.features}; retrain it "
                "(scripts/train_general_model.py)"
            )
        """the care-vs-general domain head (`policies/model/general_model.json`): how far the care model's sentiment
        applies to a post; the rest comes from the lexicon's general calibration"""
        self._spam_model = SpamModel(lexicon.spam_model) if lexicon.spam_model is not None else None
        # The learned model reads the plain lexicon score and calibrates care sentiment itself; the lexicon's
        # calibration (trained on general tweets) labels alone only without a model, and otherwise gives the
        # general reading the domain head blends in for posts that are not about care.
        calibration = lexicon.sentiment_model
        self._sentiment_model = SentimentModel(calibration) if calibration and model is None else None
        self._general_sentiment = SentimentModel(calibration) if calibration and self.general is not None else None
        self._features = model.features if model is not None else FEATURES
        """what `model_input` builds: what the model was trained on (the current version to train a new one)"""
        self._scorer = model
        """the care model with the domain head summed in the same pass, when they can share one"""
        if model is not None and self.general is not None:
            self._scorer = model.with_domain(self.general) or model
        self._scanner = PostScanner(lexicon, self._spam_model)
        self.brands: dict[str, Brand] = dict(brands or {})
        """channel id -> the brand it speaks for"""
        gazetteer = lexicon.gazetteer
        self.default_brand: Brand
        if self.brands and gazetteer is not None:
            self.default_brand = gazetteer.merge(self.brands.values())
        else:  # no channels: the lexicon's example operator
            names = frozenset(seq for options in lexicon.brand_names._by_first.values() for seq, _, _ in options)
            self.default_brand = Brand(lexicon.operator.lower(), lexicon.brand_handles, frozenset(), names)

    @classmethod
    def from_policies(cls, policies_dir: pathlib.Path, *, learned: bool = True) -> Classifier:
        """The lexicon, the channels' brands, and (unless `learned=False` or the file is absent) the model."""
        policies_dir = pathlib.Path(policies_dir)
        lexicon = Lexicon.load(policies_dir / "lexicon")
        model_path = policies_dir / MODEL_FILE
        model = CareModel.load(model_path) if learned and model_path.is_file() else None
        general_path = policies_dir / GENERAL_FILE
        general = CareModel.load(general_path) if model is not None and general_path.is_file() else None
        return cls(lexicon, model, channel_brands(lexicon, policies_dir / "channels.yaml"), general)

    def without_model(self) -> Classifier:
        return Classifier(self.lexicon, None, self.brands)

    def for_features(self) -> Classifier:
        """The classifier whose `model_input` is what a model reads at serving time (no sentiment calibration)."""
        return Classifier(dataclasses.replace(self.lexicon, sentiment_model=None), None, self.brands)

    def with_model(self, model: CareModel | None) -> Classifier:
        return Classifier(self.lexicon, model, self.brands, self.general)

    def with_general(self, general: CareModel | None, sentiment_model: dict[str, Any] | None = None) -> Classifier:
        """This classifier with another domain head and (when given) another general sentiment calibration."""
        lexicon = self.lexicon
        if sentiment_model is not None:
            lexicon = dataclasses.replace(lexicon, sentiment_model=sentiment_model)
        return Classifier(lexicon, self.model, self.brands, general)

    def brand_of(self, channel: str | None) -> Brand:
        if channel is None:
            return self.default_brand
        found: Brand | None = self.brands.get(channel)
        return found or self.default_brand

    def classify(self, post: Post, context: str | None = None) -> Classification:
        """`context`: the text of the message `post` replies to, when known."""
        if post.is_dm:
            why = "direct message to the brand"
        elif post.addressed_to_brand and post.in_reply_to_user_id:
            why = "reply to the brand" if post.in_reply_to_post_id else "addressed to the brand (channel)"
        elif post.addressed_to_brand:
            why = "mentions the brand (channel)"
        else:
            why = "not addressed to the brand (channel)"
        addressed = post.addressed_to_brand or post.is_dm
        kind = "dm" if post.is_dm else "reply" if post.in_reply_to_post_id else "mention" if addressed else "post"
        return self._classify(
            post.text,
            addressed,
            [why],
            post.language_hint,
            self.brand_of(post.channel),
            PostShape(kind, addressed),
            context,
        )

    def classify_text(
        self,
        text: str,
        *,
        addressed_to_brand: bool | None = None,
        language_hint: str | None = None,
        brand: Brand | None = None,
        kind: str | None = None,
        context: str | None = None,
    ) -> Classification:
        """`brand`: whose post it is (default: every configured channel's brand); `kind`: dm | reply | comment |
        mention | post (default: from whether it is addressed); `context`: the message it replies to, when known
        (the model reads its words and topic phrases: "still nothing" after "is your internet back?")."""
        chosen = brand or self.default_brand
        if addressed_to_brand is not None:
            return self._classify(text, addressed_to_brand, ["given by caller"], language_hint, chosen, kind, context)
        return self._classify(text, None, [], language_hint, chosen, kind, context)

    def sentiment_features(self, text: str, *, addressed_to_brand: bool | None = None) -> dict[str, float]:
        """The inputs of the learned sentiment calibration for `text` (used by scripts/train_sentiment.py)."""
        tokens = tokenize(text)
        word_tokens = [t for t in tokens if t.kind in ("word", "hashtag")]
        words = [t.norm for t in word_tokens]
        scan = self.lexicon.scan(words)
        stats = text_stats(tokens)
        if addressed_to_brand is None:
            addressed_to_brand, _ = addressed_by_text(self.lexicon, tokens, words)
        senti = score_sentiment(self.lexicon, stats, scan, word_tokens)
        _, profane, _ = abuse_flags(self.lexicon, scan)
        score = _profanity_rule(senti.score, profane, addressed_to_brand)
        return sentiment_features(senti, score, stats, word_tokens)

    def _sentiment(
        self, senti: SentimentResult, stats: TextStats, word_tokens: list[Token], profane: bool, addressed: bool
    ) -> tuple[SentimentLabel, float, list[str]]:
        score = _profanity_rule(senti.score, profane, addressed)
        sent_ev = list(senti.evidence)
        if score != senti.score:
            sent_ev.append("profanity")
        label: SentimentLabel = "neutral"
        if score >= POSITIVE_AT:
            label = "positive"
        elif score <= NEGATIVE_AT:
            label = "negative"
        if self._sentiment_model is None:
            return label, score, sent_ev
        p_neg, p_neu, p_pos = self._sentiment_model.probabilities_of(senti, score, stats, len(word_tokens))
        # the first most likely class, as max() picks it
        best: SentimentLabel = "negative"
        top = p_neg
        if p_neu > top:
            best, top = "neutral", p_neu
        if p_pos > top:
            best = "positive"
        sent_ev.append(
            f"lexicon {score:+.2f} -> {label}; calibrated p(neg/neu/pos) {p_neg:.2f}/{p_neu:.2f}/{p_pos:.2f}"
        )
        return best, p_pos - p_neg, sent_ev

    def _spam(
        self,
        stats: TextStats,
        scan: Scan,
        topic: str,
        money: bool,
        run5: bool,
        unigram_sum: float,
        bigram_weights: list[float],
    ) -> tuple[bool, list[str], float, float | None]:
        lex = self.lexicon
        spam_value, spam_ev = spam_cue_score(lex, stats, scan, money, run5)
        if self._spam_model is None:
            return (
                spam_value >= lex.spam_threshold,
                [*spam_ev, f"score {spam_value:.2f} (cut {lex.spam_threshold:.2f})"],
                spam_value,
                None,
            )
        # A care complaint needs a surer model before it is dropped as spam.
        cut = SPAM_CUT_COMPLAINT if topic not in ("other", "praise") else SPAM_CUT
        prob = self._spam_model.probability_from(unigram_sum, bigram_weights, stats, len(scan.words), money, run5)
        return prob >= cut, [*spam_ev, f"model p={prob:.2f} (cut {cut:.2f})"], spam_value, prob

    def model_input(
        self,
        text: str,
        *,
        brand: Brand,
        kind: str,
        addressed: bool,
        language_hint: str | None = None,
        context: str | None = None,
    ) -> ModelInput:
        """What the learned model reads for a post (training uses this; inference builds the same in `_classify`)."""
        x = self._read(text, addressed, [], language_hint, brand, kind)[1]
        return self._with_context(x, context) if context else x

    def _with_context(self, x: ModelInput, context: str) -> ModelInput:
        """The words of the message replied to (as `x:` keys, and their character n-grams as `xc:` keys, so a
        reply after "your router" reads like one after "routers") and its topic phrases (`ctx:` features)."""
        scanned = self._scanner.scan(context)
        keys = list(dict.fromkeys("x:" + w for w in scanned.words))
        keys += list(dict.fromkeys(k for w in dict.fromkeys(scanned.words) for k in context_char_keys(w)))
        topics = dict.fromkeys(m.value[0] for m in scanned.scan.find(self.lexicon.topics))
        dense = [*x.dense, ("ctx", 1.0), *(("ctx:lt:" + t, 1.0) for t in topics)]
        n_keys = (1.0 / x.scale) ** 2 if x.scale < 1.0 else float(len(x.words) + len(x.pairs))
        return ModelInput(x.words, [*x.pairs, *keys], dense, 1.0 / math.sqrt(n_keys + len(keys)))

    def _classify(
        self,
        text: str,
        addressed: bool | None,
        addressed_evidence: list[str],
        language_hint: str | None,
        brand: Brand,
        kind: str | PostShape | None,
        context: str | None = None,
    ) -> Classification:
        fields, x, (general, scam) = self._read(text, addressed, addressed_evidence, language_hint, brand, kind)
        if self._scorer is not None:
            x_ctx = self._with_context(x, context) if context else x
            p_care = apply_model(fields, self._scorer, x_ctx, scam=scam)
            # a conversation on the brand's own channels (DM, reply, comment, a known thread) is care by where it is
            if general is not None and self.general is not None and not context and x.dense[0][0] in _BY_WORDS:
                if p_care is None:
                    p_care = self.general.yes_probability(x)
                blend_general_sentiment(fields, p_care, general)
        return Classification(**fields)

    def _read(  # noqa: PLR0915 - one flat pass over the post
        self,
        text: str,
        addressed: bool | None,
        addressed_evidence: list[str],
        language_hint: str | None,
        brand: Brand,
        kind: str | PostShape | None,
    ) -> tuple[dict[str, Any], ModelInput, _Extras]:
        """The lexicon's reading as `Classification` fields, what the learned model reads, and (with a domain head)
        the lexicon's general-tweet calibration p(negative, neutral, positive) and whether it is a scam."""
        lex = self.lexicon
        tokens, word_tokens, words, stats, mentions, decimal, isdigits, run5, scan, spam_uni, spam_bi = (
            self._scanner.scan(text)
        )
        evidence: dict[str, list[str]] = {}

        if addressed is None:
            addressed, addressed_evidence = _addressed(lex, brand, tokens, words, mentions)
        evidence["addressed_to_brand"] = addressed_evidence

        senti = score_sentiment(lex, stats, scan, word_tokens)
        abuse, profane, abuse_ev = abuse_flags(lex, scan)
        label, score, sent_ev = self._sentiment(senti, stats, word_tokens, profane, addressed)
        evidence["sentiment"] = sent_ev or ["no sentiment words"]
        general = None
        if self._general_sentiment is not None:
            general = self._general_sentiment.probabilities_of(senti, score, stats, len(word_tokens))

        churn_score, to_competitor, churn_ev = churn(lex, scan)
        churn_risk = churn_score >= CHURN_AT
        evidence["churn_risk"] = [*churn_ev, f"score {churn_score:.2f}"]

        topic = find_topic(lex, scan, score, addressed, to_competitor)
        evidence["topic"] = topic.evidence
        if topic.intent:
            evidence["intent"] = [f"{topic.topic}/{topic.intent}"]

        urg, urg_ev = urgency(lex, topic.topic, scan, stats, score, churn_risk)
        evidence["urgency"] = urg_ev
        question, q_ev = is_question(lex, stats, words)
        if q_ev:
            evidence["is_question"] = q_ev
        language, lang_ev = detect_language(lex, scan, language_hint)
        evidence["language"] = lang_ev

        money = has_money(text, decimal)
        spam, evidence["spam"], spam_cues, spam_p = self._spam(stats, scan, topic.topic, money, run5, spam_uni, spam_bi)
        scam_reading = scam_flags(lex, scan, text, stats, money)
        if scam_reading.scam:  # whatever its topic words
            spam = True
            evidence["spam"] = [*scam_reading.evidence, *evidence["spam"]]
        elif scam_reading.evidence:
            evidence["spam"].append(scam_reading.evidence[0])
        if abuse_ev:
            evidence["abuse"] = abuse_ev

        spans = find_pii_counted(text, decimal, isdigits)
        pii = tuple(dict(p) for p in spans) if spans else ()
        if pii:
            evidence["pii"] = [f"{p['type']} at {p['start']}-{p['end']}" for p in pii]
        regions: tuple[str, ...] = ()
        services: tuple[str, ...] = ()
        region_hits = scan.find(lex.regions)
        if region_hits:
            regions = tuple(dict.fromkeys(m.value for m in region_hits))
            evidence["regions"] = [f"'{m.phrase}' -> {m.value}" for m in region_hits]
        service_hits = scan.find(lex.services)
        if service_hits:
            services = tuple(dict.fromkeys(m.value for m in service_hits))
            evidence["services"] = [f"'{m.phrase}' -> {m.value}" for m in service_hits]

        needs = (
            addressed
            and not spam
            and (topic.topic in CARE_TOPICS or churn_risk or (question and topic.topic == "other") or abuse)
        )
        fields: dict[str, Any] = {
            "topic": topic.topic,
            "sentiment": Sentiment(label, round(score, 4)),
            "churn_risk": churn_risk,
            "addressed_to_brand": addressed,
            "language": language,
            "intent": topic.intent,
            "urgency": urg,
            "is_question": question,
            "spam": spam,
            "abuse": abuse,
            "pii": pii,
            "regions": regions,
            "services": services,
            "evidence": evidence,
            "needs_human": Judged(value=needs, p=1.0 if needs else 0.0),
            "churn": Judged(value=churn_risk, p=1.0 if churn_risk else 0.0),
            "spam_p": 1.0 if spam else 0.0,
            "abuse_p": 1.0 if abuse else 0.0,
        }
        if self.model is None and kind is None:
            return fields, _NO_INPUT, _Extras(general, scam_reading)
        if isinstance(kind, PostShape):
            shape = kind
        else:
            shape = PostShape(kind or ("mention" if addressed else "post"), addressed)
        reading = LexiconReading(
            topic.hits,
            [f"{t}/{i}" for t, i in (m.value for m in scan.find(lex.topics))],
            topic.topic,
            _profanity_rule(senti.score, profane, addressed),
            senti.positive,
            senti.negative,
            senti.sarcasm,
            churn_score,
            sum(1 for e in churn_ev if e.startswith("churn phrase")),
            profane,
            abuse,
            question,
            urg,
            language,
            spam_cues,
            spam_p,
            money,
            run5,
            bool(pii),
        )
        x = model_input(lex, scan, word_tokens, stats, mentions, reading, shape, brand, self._features)
        return fields, x, _Extras(general, scam_reading)


class _Extras(NamedTuple):
    general: tuple[float, float, float] | None
    """the lexicon's general-tweet calibration p(negative, neutral, positive), with a domain head"""
    scam: ScamReading
    """the lexicon's reading of a scam: sent, reported or warned of"""


_NO_INPUT = ModelInput([], [], [])
_BY_WORDS = frozenset({"kind:mention", "kind:post"})
"""post kinds whose domain (care or general) is judged from the words"""


def _addressed(
    lex: Lexicon, brand: Brand, tokens: list[Token], words: list[str], mentions: list[str]
) -> tuple[bool, list[str]]:
    """Addressed by the text alone: a handle of `brand` (the channel's, not the example operator's), else the
    lexicon's second-person cues."""
    return addressed_by_text(lex, tokens, words, mentions, brand.handles or lex.brand_handles)


def _profanity_rule(score: float, profane: bool, addressed: bool) -> float:
    """Profanity in a post to or about the brand reads negative even without a lexicon word."""
    if profane and score > -0.3:
        return max(-1.0, min(score, 0.0) - PROFANITY_PENALTY * (1.0 if addressed else 0.5))
    return score
