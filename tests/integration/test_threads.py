"""A reply is classified with the text it replies to, on DynamoDB Local through the webhook and the processor:
the brand's own post (kept when it comes back through the webhook) or a customer's post Carewire decided; a post
that replies to nothing is classified alone, and a forgotten customer's post gives no context."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from chalice.test import Client

from app import app
from chalicelib.model import Classification, Post
from chalicelib.runtime import Runtime
from chalicelib.threads import said_key
from tests.conftest import X_SECRET
from tests.support import BRAND_HANDLE, BRAND_ID, mention_delivery, x_headers

BRAND_REPLY = "We're sorry about the trouble. Please DM us your full name and service address so we can check. ^JM"


class Spy:
    """The runtime's classifier, noting the context each post was classified with."""

    def __init__(self, classifier: Any) -> None:
        self.classifier = classifier
        self.seen: dict[str, str | None] = {}

    def classify(self, post: Post, context: str | None = None) -> Classification:
        self.seen[post.post_id] = context
        result: Classification = self.classifier.classify(post, context)
        return result

    def __getattr__(self, name: str) -> Any:
        return getattr(self.classifier, name)


def _tweet(post_id: str, text: str, reply_to: str | None = None, author: str = "42", handle: str = "maria_qc") -> bytes:
    doc = json.loads(mention_delivery(post_id, text, author_id=author, handle=handle))
    tweet = doc["tweet_create_events"][0]
    if reply_to is not None:
        tweet["in_reply_to_status_id_str"] = reply_to
        tweet["in_reply_to_user_id_str"] = BRAND_ID
        tweet["in_reply_to_screen_name"] = BRAND_HANDLE
    return json.dumps(doc).encode()


def _near_now(rt: Runtime) -> Runtime:
    """DynamoDB Local deletes rows whose TTL has passed in real time: the kept posts must not be born expired."""
    rt.clock = lambda: datetime.now(UTC)
    return rt


def _deliver(rt: Runtime, *bodies: bytes) -> None:
    with Client(app, stage_name="local") as client:
        for body in bodies:
            assert client.http.post("/webhooks/x-care", headers=x_headers(body, X_SECRET), body=body).status_code == 200
            rt.queue.join()  # type: ignore[attr-defined]


def test_a_reply_is_classified_with_the_brands_post_or_the_customers_post_it_replies_to(
    ddb_runtime: Runtime,
) -> None:
    rt = _near_now(ddb_runtime)
    spy = Spy(rt.classifier)
    rt.__dict__["classifier"] = spy  # before the processor is built
    _deliver(
        rt,
        _tweet("7001", "@bayanitelcares no internet since this morning in Makati"),
        _tweet("7002", f"@maria_qc {BRAND_REPLY}", author=BRAND_ID, handle=BRAND_HANDLE),  # the brand answers
        _tweet("7003", "@bayanitelcares already did that twice. third DM coming", reply_to="7002"),
        _tweet("7004", "@bayanitelcares and still nothing", reply_to="7001"),
        _tweet("7005", "@bayanitelcares hello?", reply_to="6999"),  # a parent nobody kept
    )
    assert "7002" not in spy.seen  # the brand's own post is kept, never decided
    kept = rt.dynamodb.get_item(TableName=rt.settings.table("activity"), Key={"pk": {"S": said_key("x", "7002")}})
    assert kept["Item"]["text"]["S"] == f"@maria_qc {BRAND_REPLY}" and "expires_at" in kept["Item"]
    assert spy.seen["7001"] is None  # replies to nothing: classified alone
    assert spy.seen["7003"] == f"@maria_qc {BRAND_REPLY}"
    assert spy.seen["7004"] == "@bayanitelcares no internet since this morning in Makati"
    assert spy.seen["7005"] is None
    assert rt.store.decision("x#7003") is not None  # and each was decided


def test_a_forgotten_customers_post_gives_no_context(ddb_runtime: Runtime) -> None:
    from chalicelib.privacy import Forgetter

    rt = _near_now(ddb_runtime)
    spy = Spy(rt.classifier)
    rt.__dict__["classifier"] = spy
    _deliver(rt, _tweet("7101", "@bayanitelcares my number 0917 555 0101 has no signal", handle="gone_user"))
    Forgetter(rt.dynamodb, rt.settings, rt.clock()).forget("gone_user", platform="x")
    _deliver(rt, _tweet("7102", "@bayanitelcares any update?", reply_to="7101", author="43", handle="other"))
    assert spy.seen["7102"] is None


def test_forget_deletes_the_brands_kept_posts_that_address_the_customer(ddb_runtime: Runtime) -> None:
    from chalicelib.privacy import Forgetter

    rt = _near_now(ddb_runtime)
    _deliver(
        rt,
        _tweet("7201", "@Gone_User sorry about that, please DM us", author=BRAND_ID, handle=BRAND_HANDLE),
        _tweet("7202", "@gone_user_2 thanks for waiting", author=BRAND_ID, handle=BRAND_HANDLE),
    )
    Forgetter(rt.dynamodb, rt.settings, rt.clock()).forget("@gone_user", platform="x")
    table = rt.settings.table("activity")
    assert "Item" not in rt.dynamodb.get_item(TableName=table, Key={"pk": {"S": said_key("x", "7201")}})
    assert "Item" in rt.dynamodb.get_item(TableName=table, Key={"pk": {"S": said_key("x", "7202")}})


def test_a_post_that_replies_to_nothing_reads_nothing_and_kept_posts_expire_in_a_week() -> None:
    from datetime import timedelta

    from chalicelib.model import Author
    from chalicelib.threads import KEEP, ThreadContext

    class Recorder:
        def __init__(self) -> None:
            self.calls: list[tuple[str, dict[str, Any]]] = []

        def batch_get_item(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(("batch_get_item", kwargs))
            return {"Responses": {}}

        def put_item(self, **kwargs: Any) -> dict[str, Any]:
            self.calls.append(("put_item", kwargs))
            return {}

    now = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)
    client = Recorder()
    threads = ThreadContext(client, "activity", "decisions", lambda: now)  # type: ignore[arg-type]
    alone = Post("x", "x-care", "1", "1", Author("42", "maria_qc"), "no signal", "2026-11-30T11:59:00.000Z")
    assert threads.parent_text(alone) is None
    assert client.calls == []
    threads.remember(alone)
    [(call, put)] = client.calls
    assert call == "put_item" and put["Item"]["pk"] == {"S": "said#x#1"}
    assert int(put["Item"]["expires_at"]["N"]) == int((now + KEEP).timestamp())
    assert timedelta(days=7) == KEEP  # what the README promises
