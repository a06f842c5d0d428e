"""`batch_get`, the one BatchGetItem loop: 100 keys a call, unprocessed keys asked again, never half an answer."""

from __future__ import annotations

from typing import Any

import pytest

from chalicelib.store import dynamo
from chalicelib.store.dynamo import Unprocessed, batch_get


class Throttled:
    """Answers each call with all but the last `hold` keys, and leaves those unprocessed `times` times."""

    def __init__(self, hold: int = 1, times: int = 2) -> None:
        self.hold, self.times = hold, times
        self.calls: list[int] = []

    def batch_get_item(self, RequestItems: dict[str, Any]) -> dict[str, Any]:
        [(table, ask)] = RequestItems.items()
        keys = ask["Keys"]
        self.calls.append(len(keys))
        held = keys[-self.hold :] if self.times > 0 else []
        self.times -= 1 if held else 0
        served = [k for k in keys if k not in held]
        answer: dict[str, Any] = {"Responses": {table: [{**k, "v": {"N": "1"}} for k in served]}}
        if held:
            answer["UnprocessedKeys"] = {table: {**ask, "Keys": held}}
        return answer


def test_every_key_is_read_in_calls_of_100_and_unprocessed_ones_are_asked_again(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr("time.sleep", lambda _: None)
    client = Throttled(hold=1, times=2)
    keys = [{"pk": {"S": str(n)}} for n in range(250)]
    got = batch_get(client, "t", keys, ConsistentRead=True)
    assert sorted(int(i["pk"]["S"]) for i in got) == list(range(250))
    assert client.calls == [100, 1, 1, 100, 50]


def test_keys_that_stay_unprocessed_fail_the_read_instead_of_answering_half(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("time.sleep", lambda _: None)
    client = Throttled(hold=2, times=100)
    with pytest.raises(Unprocessed):
        batch_get(client, "t", [{"pk": {"S": str(n)}} for n in range(5)])
    assert len(client.calls) == dynamo.UNPROCESSED_ATTEMPTS
