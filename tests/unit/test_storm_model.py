from __future__ import annotations

import math
from pathlib import Path

import pytest

from chalicelib.incidents.signature import band_keys, features, signature, similarity
from chalicelib.incidents.storms import StormConfig, StormConfigError, ewma, poisson_tail
from tests.conftest import POLICIES


def test_poisson_tail_matches_the_closed_form() -> None:
    assert poisson_tail(0, 3.0) == 1.0
    assert poisson_tail(1, 3.0) == pytest.approx(1 - math.exp(-3))
    assert poisson_tail(3, 2.5) == pytest.approx(1 - math.exp(-2.5) * (1 + 2.5 + 2.5**2 / 2))
    assert poisson_tail(40, 2.5) < 1e-20 < poisson_tail(10, 2.5) < 1e-3


def test_ewma_follows_the_recent_level() -> None:
    assert ewma([0] * 50 + [10] * 10, 60) > ewma([10] * 10 + [0] * 50, 60)
    assert ewma([], 10) == 0.0


def test_shipped_storm_settings_load_with_a_region_hierarchy() -> None:
    config = StormConfig.load(POLICIES)
    assert config.regions_of(["Quezon City"]) == ["Quezon City", "Metro Manila", "*"]
    assert config.regions_of([]) == ["*"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("floor: 1\n", "floor: a whole number from 2"),
        ("surprise: 2\n", "surprise: a number between 0 and 1"),
        ("topics: []\n", "topics: a non-empty list"),
        ("region_parents: {A: B, B: A}\n", "is its own ancestor"),
        ("windw_minutes: 5\n", "unknown setting 'windw_minutes'"),
        ("- x\n", "must be a mapping"),
    ],
)
def test_bad_storm_settings_are_located_errors(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "storms.yaml").write_text(text)
    with pytest.raises(StormConfigError) as caught:
        StormConfig.load(tmp_path)
    assert message in str(caught.value) and "storms.yaml" in str(caught.value)


def test_near_duplicates_score_high_and_unrelated_posts_low() -> None:
    a = signature("@globe NO SIGNAL in Quezon City since 6am!!! https://t.co/x")
    b = signature("no signal here in quezon city since 6am @GlobeCares")
    c = signature("love the new unlimited plan, thanks")
    assert similarity(a, b) > 0.7
    assert similarity(a, c) < 0.1
    assert similarity(a, a) == 1.0 and similarity((), a) == 0.0
    assert "signal" in features("Signals!") and "the" not in features("the")


def test_band_keys_agree_for_identical_features_and_differ_otherwise() -> None:
    assert band_keys(signature("router down again")) == band_keys(signature("Router DOWN again!!"))
    assert band_keys(signature("router down again")) != band_keys(signature("billing error refund"))
    assert len(band_keys(signature("towers down downtown"), bands=3)) == 3
    assert band_keys(()) == ()
