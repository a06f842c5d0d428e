"""`carewire train`, `carewire model show|diff` and `carewire classify --channel` through click's runner."""

from __future__ import annotations

import json
import math
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from chalicelib.cli import cli
from tests.conftest import POLICIES

SAMPLE = Path(__file__).resolve().parents[1] / "fixtures" / "classify" / "care_corpus_sample.jsonl"


@pytest.fixture
def policies(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("CAREWIRE_HOME", str(tmp_path / "home"))
    target = tmp_path / "policies"
    shutil.copytree(POLICIES, target)
    shutil.rmtree(target / "model", ignore_errors=True)
    return target


def _train(policies: Path, *args: str) -> object:
    return CliRunner().invoke(cli, ["--policies", str(policies), "train", "--data", str(SAMPLE), *args])


def test_train_writes_the_model_and_prints_held_out_figures(policies: Path) -> None:
    result = _train(policies)
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    out: str = result.output  # type: ignore[attr-defined]
    assert "40 training rows, 8 held-out rows (never trained on)" in out
    assert "held-out operators (Safaricom), new model:" in out and "topic macro-F1" in out
    written = policies / "model" / "care_model.json"
    first = written.read_bytes()
    assert json.loads(first)["meta"]["trained_on"][0]["rows"] == 48
    # the same data again: the same bytes, and not worse than itself
    again = _train(policies)
    assert again.exit_code == 0, again.output  # type: ignore[attr-defined]
    assert written.read_bytes() == first
    shown = CliRunner().invoke(cli, ["--policies", str(policies), "model", "show"])
    assert shown.exit_code == 0 and json.loads(shown.output)["version"] == json.loads(first)["version"]
    assert json.loads(shown.output)["priors"] == json.loads(first)["priors"]  # the topic head's shift, shown


def test_train_refuses_a_worse_model_unless_forced(policies: Path, tmp_path: Path) -> None:
    assert _train(policies).exit_code == 0  # type: ignore[attr-defined]
    written = policies / "model" / "care_model.json"
    good = written.read_bytes()
    rows = [json.loads(line) for line in SAMPLE.read_text(encoding="utf-8").splitlines()]
    for row in rows:
        if row["split"] == "train":  # teach it nonsense: every training post is praise
            row["labels"] = {**row["labels"], "topic": "praise", "sentiment": "positive", "needs_human": False}
    worse = tmp_path / "worse.jsonl"
    worse.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    refused = CliRunner().invoke(cli, ["--policies", str(policies), "train", "--data", str(worse)])
    assert refused.exit_code == 2
    assert "scores worse than the current one" in refused.output
    # and how far: the gap, with the interval a reviewer reads to tell a loss from the noise of 8 rows
    assert re.search(
        r"new - current -0\.\d{4}; 95% interval -\d\.\d{4} to [+-]\d\.\d{4} over 400 draws of the held-out rows",
        refused.output,
    )
    assert written.read_bytes() == good
    forced = CliRunner().invoke(cli, ["--policies", str(policies), "train", "--data", str(worse), "--force"])
    assert forced.exit_code == 0, forced.output
    assert written.read_bytes() != good


def test_model_diff_lists_the_decisions_a_candidate_changes(policies: Path, tmp_path: Path) -> None:
    candidate = tmp_path / "candidate.json"
    assert _train(policies, "--out", str(candidate)).exit_code == 0  # type: ignore[attr-defined]
    posts = tmp_path / "posts.jsonl"
    texts = ["@bayanitelcares thanks for the quick fix!", "@bayanitelcares that's it, porting my number out"]
    posts.write_text("".join(json.dumps({"id": str(i), "text": t}) + "\n" for i, t in enumerate(texts)), "utf-8")
    result = CliRunner().invoke(
        cli, ["--policies", str(policies), "model", "diff", "--candidate", str(candidate), "--posts", str(posts)]
    )
    assert result.exit_code == 0, result.output
    assert f"decisions change between {policies / 'model' / 'care_model.json'} and {candidate}" in result.output
    neither = CliRunner().invoke(cli, ["--policies", str(policies), "model", "diff", "--posts", str(posts)])
    assert neither.exit_code == 2 and "exactly one of --candidate" in neither.output


def test_classify_judges_addressed_for_the_channel_brand(policies: Path) -> None:
    ok = CliRunner().invoke(cli, ["--policies", str(policies), "classify", "--channel", "x-care", "@bayanitel hi?"])
    assert ok.exit_code == 0, ok.output
    assert json.loads(ok.output)["addressed_to_brand"] is True
    other = CliRunner().invoke(cli, ["--policies", str(policies), "classify", "--channel", "x-care", "@verizon hi?"])
    assert json.loads(other.output)["addressed_to_brand"] is False
    unknown = CliRunner().invoke(cli, ["--policies", str(policies), "classify", "--channel", "nope", "hi"])
    assert unknown.exit_code == 2 and "unknown channel 'nope'" in unknown.output


def test_the_topic_head_reads_with_the_prior_of_real_traffic(policies: Path, tmp_path: Path) -> None:
    """By default the topic head's probabilities are moved to round 1's topic shares: the model carries one offset
    per topic, and a post's topic probabilities are the unshifted ones times exp(offset / T), renormalised.
    `--prevalence topic=0` keeps the training rows' own mix (no offsets)."""
    from chalicelib.classify.learned import CareModel

    shifted, own = tmp_path / "shifted.json", tmp_path / "own.json"
    for out, extra in ((shifted, ()), (own, ("--prevalence", "topic=0"))):
        result = _train(policies, *extra, "--out", str(out), "--force")
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    with_prior, without = CareModel.load(shifted), CareModel.load(own)
    assert len(with_prior.priors["topic"]) == 8 and any(with_prior.priors["topic"])
    assert without.priors == {} and without.meta["options"]["topic_prevalence"] == {}
    assert with_prior.meta["options"]["topic_prevalence"]["outage"] == 0.272
    # the same weights either way: the offsets go onto the topic head's bias when the model is read, nowhere else
    topic = with_prior.heads["topic"]
    shift = [a - b for a, b in zip(with_prior.bias, without.bias, strict=True)]
    assert shift[topic.start : topic.end] == pytest.approx(with_prior.priors["topic"])
    assert not any(shift[: topic.start] + shift[topic.end :])
    assert with_prior.temperature == without.temperature
    from chalicelib.classify import Classifier

    base = Classifier.from_policies(policies, learned=False)
    x = base.model_input("no signal since morning, fix it", brand=base.default_brand, kind="mention", addressed=True)
    p, q = with_prior.predict(x).probabilities["topic"], without.predict(x).probabilities["topic"]
    t = with_prior.temperature["topic"]
    classes = with_prior.heads["topic"].classes
    moved = [q[c] * math.exp(o / t) for c, o in zip(classes, with_prior.priors["topic"], strict=True)]
    assert [p[c] for c in classes] == pytest.approx([v / sum(moved) for v in moved])


def test_a_head_is_calibrated_to_the_prevalence_asked(policies: Path, tmp_path: Path) -> None:
    """The same rows, two priors for churn: its Platt intercept moves by the log of the odds ratio (Bayes), so a
    rarer prior gives a lower p to the same post; the other heads keep theirs; the shares go with the model."""
    docs = {}
    for share in ("0.02", "0.5"):
        out = tmp_path / f"model-{share}.json"
        result = _train(policies, "--prevalence", f"churn_risk={share}", "--out", str(out), "--force")
        assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
        docs[share] = json.loads(out.read_text(encoding="utf-8"))
    rare, even = docs["0.02"], docs["0.5"]
    assert rare["meta"]["options"]["prevalence"] == {"churn_risk": 0.02, "needs_human": 0.526}
    assert even["meta"]["options"]["prevalence"] == {"churn_risk": 0.5, "needs_human": 0.526}
    (a_rare, b_rare), (a_even, b_even) = rare["platt"]["churn"], even["platt"]["churn"]
    assert a_rare == a_even
    assert b_even - b_rare == pytest.approx(math.log((0.5 / 0.5) / (0.02 / 0.98)), abs=1e-5)
    assert rare["platt"]["needs_human"] == even["platt"]["needs_human"]
    own = tmp_path / "own.json"
    result = _train(policies, "--prevalence", "needs_human=0", "--out", str(own), "--force")
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert json.loads(own.read_text(encoding="utf-8"))["meta"]["options"]["prevalence"] == {"churn_risk": 0.057}
    for bad in ("churn_risk=1", "mood=0.1", "churn_risk"):
        refused = _train(policies, "--prevalence", bad)
        assert refused.exit_code == 2 and "LABEL=SHARE" in refused.output, bad  # type: ignore[attr-defined]
