"""The classifier stage: one `Classification` per post, every field with the evidence that produced it.

All vocabulary comes from `policies/lexicon/` (loaded once by `Classifier.from_policies`); the code is generic.
Pure Python, deterministic, no network.
"""

from __future__ import annotations

import pathlib

from chalicelib.classify.language import detect_language
from chalicelib.classify.lexicon import Lexicon, LexiconError, Scan
from chalicelib.classify.scanner import PostScanner
from chalicelib.classify.sentiment import (
    SentimentModel,
    SentimentResult,
    score_sentiment,
    sentiment_features,
)
from chalicelib.classify.spam import SpamModel, abuse_flags, has_money, spam_cue_score
from chalicelib.classify.text import TextStats, Token, text_stats, tokenize
from chalicelib.classify.topic import addressed_by_text, churn, find_topic, is_question, urgency
from chalicelib.model import Classification, Post, Sentiment, SentimentLabel
from chalicelib.pii import find_pii_counted

__all__ = ["Classifier", "LexiconError"]

POSITIVE_AT = 0.05
NEGATIVE_AT = -0.05
CHURN_AT = 0.5
SPAM_CUT = 0.5
SPAM_CUT_COMPLAINT = 0.85
PROFANITY_PENALTY = 0.6
"""Profanity in a post to or about the brand reads negative even without a lexicon word."""


class Classifier:
    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        self._spam_model = SpamModel(lexicon.spam_model) if lexicon.spam_model is not None else None
        self._sentiment_model = SentimentModel(lexicon.sentiment_model) if lexicon.sentiment_model else None
        self._scanner = PostScanner(lexicon, self._spam_model)

    @classmethod
    def from_policies(cls, policies_dir: pathlib.Path) -> Classifier:
        return cls(Lexicon.load(pathlib.Path(policies_dir) / "lexicon"))

    def classify(self, post: Post) -> Classification:
        if post.is_dm:
            why = "direct message to the brand"
        elif post.addressed_to_brand and post.in_reply_to_user_id:
            why = "reply to the brand" if post.in_reply_to_post_id else "addressed to the brand (channel)"
        elif post.addressed_to_brand:
            why = "mentions the brand (channel)"
        else:
            why = "not addressed to the brand (channel)"
        return self._classify(post.text, post.addressed_to_brand or post.is_dm, [why], post.language_hint)

    def classify_text(
        self, text: str, *, addressed_to_brand: bool | None = None, language_hint: str | None = None
    ) -> Classification:
        if addressed_to_brand is not None:
            return self._classify(text, addressed_to_brand, ["given by caller"], language_hint)
        return self._classify(text, None, [], language_hint)

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
    ) -> tuple[bool, list[str]]:
        lex = self.lexicon
        spam_value, spam_ev = spam_cue_score(lex, stats, scan, money, run5)
        if self._spam_model is None:
            return spam_value >= lex.spam_threshold, [
                *spam_ev,
                f"score {spam_value:.2f} (cut {lex.spam_threshold:.2f})",
            ]
        # A care complaint needs a surer model before it is dropped as spam.
        cut = SPAM_CUT_COMPLAINT if topic not in ("other", "praise") else SPAM_CUT
        prob = self._spam_model.probability_from(unigram_sum, bigram_weights, stats, len(scan.words), money, run5)
        return prob >= cut, [*spam_ev, f"model p={prob:.2f} (cut {cut:.2f})"]

    def _classify(
        self, text: str, addressed: bool | None, addressed_evidence: list[str], language_hint: str | None
    ) -> Classification:
        lex = self.lexicon
        tokens, word_tokens, words, stats, mentions, decimal, isdigits, run5, scan, spam_uni, spam_bi = (
            self._scanner.scan(text)
        )
        evidence: dict[str, list[str]] = {}

        if addressed is None:
            addressed, addressed_evidence = addressed_by_text(lex, tokens, words, mentions)
        evidence["addressed_to_brand"] = addressed_evidence

        senti = score_sentiment(lex, stats, scan, word_tokens)
        abuse, profane, abuse_ev = abuse_flags(lex, scan)
        label, score, sent_ev = self._sentiment(senti, stats, word_tokens, profane, addressed)
        evidence["sentiment"] = sent_ev or ["no sentiment words"]

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
        spam, evidence["spam"] = self._spam(stats, scan, topic.topic, money, run5, spam_uni, spam_bi)
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

        return Classification(
            topic.topic,
            Sentiment(label, round(score, 4)),
            churn_risk,
            addressed,
            language,
            topic.intent,
            urg,
            question,
            spam,
            abuse,
            pii,
            regions,
            services,
            evidence,
        )


def _profanity_rule(score: float, profane: bool, addressed: bool) -> float:
    """Profanity in a post to or about the brand reads negative even without a lexicon word."""
    if profane and score > -0.3:
        return max(-1.0, min(score, 0.0) - PROFANITY_PENALTY * (1.0 if addressed else 0.5))
    return score
