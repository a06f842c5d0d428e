"""A customer's other cases through the sparse by_author index, on DynamoDB Local: every conversation of
theirs on the platform, newest first; nobody else's; and `carewire forget` takes them out of the index."""

from __future__ import annotations

from datetime import timedelta

from chalicelib.console.views import customer_cases, post_of
from chalicelib.escalations import new_item
from chalicelib.model import Author, Classification, Post, Sentiment
from chalicelib.privacy import Forgetter
from chalicelib.runtime import Runtime
from chalicelib.store.dynamo import from_item


def _open(
    rt: Runtime,
    post_id: str,
    conversation: str,
    author: str,
    hours_ago: int,
    topic: str = "outage",
    platform: str = "x",
) -> str:
    post = Post(
        platform=platform,
        channel="x-care",
        post_id=post_id,
        conversation_id=conversation,
        author=Author(author, f"h{author}", "Name"),
        text=f"post {post_id} by {author}",
        created_at="2026-11-23T08:00:00.000Z",
    )
    classification = Classification(
        topic=topic, sentiment=Sentiment("negative", -0.6), churn_risk=False, addressed_to_brand=True, language="en"
    )
    item = new_item(
        post=post,
        classification=classification,
        queue=rt.escalations.queue(rt.escalations.queue_names[0]),
        priority=3,
        sla_minutes=None,
        rule="test",
        now=rt.clock() - timedelta(hours=hours_ago),
    )
    assert rt.escalations.insert(item)
    return str(item["escalation_id"])


def test_a_customer_with_three_cases_in_two_conversations_sees_the_other_two(ddb_runtime: Runtime) -> None:
    rt = ddb_runtime
    oldest = _open(rt, "1", "c1", "77", hours_ago=30, topic="billing")
    middle = _open(rt, "2", "c1", "77", hours_ago=20)
    newest = _open(rt, "3", "c2", "77", hours_ago=1, topic="device")
    stranger_same_thread = _open(rt, "4", "c1", "88", hours_ago=10)
    other_platform_same_id = _open(rt, "5", "c9", "77", hours_ago=5, platform="facebook")
    rt.escalations.resolve(oldest, "user:lea", "answered", rt.clock(), force=True)

    item = rt.escalations.get(newest)
    cases = customer_cases(rt, item, post_of(item["post"]))

    assert [c["id"] for c in cases] == [middle, oldest]  # newest first; not the item itself
    assert {stranger_same_thread, other_platform_same_id}.isdisjoint(c["id"] for c in cases)
    by_id = {c["id"]: c for c in cases}
    assert by_id[oldest]["topic"] == "billing" and by_id[oldest]["same_conversation"] is False
    assert by_id[oldest]["opened_at"] < by_id[middle]["opened_at"]
    assert by_id[oldest]["text"] == "post 1 by 77"
    assert (by_id[oldest]["status"], by_id[oldest]["outcome"]) == ("resolved", "answered")
    assert (by_id[middle]["status"], by_id[middle]["outcome"], by_id[middle]["same_conversation"]) == (
        "open",
        None,
        False,
    )
    seen_from_middle = customer_cases(rt, rt.escalations.get(middle), post_of(rt.escalations.get(middle)["post"]))
    assert [(c["id"], c["same_conversation"]) for c in seen_from_middle] == [(newest, False), (oldest, True)]
    stranger = rt.escalations.get(stranger_same_thread)
    assert customer_cases(rt, stranger, post_of(stranger["post"])) == []  # 77's cases never show for 88


def test_forget_takes_the_customer_out_of_the_author_index(ddb_runtime: Runtime) -> None:
    rt = ddb_runtime
    _open(rt, "1", "c1", "77", hours_ago=3)
    _open(rt, "2", "c2", "77", hours_ago=2)
    kept = _open(rt, "3", "c3", "88", hours_ago=1)
    assert len(rt.escalations.cases_of("x", "77")) == 2

    Forgetter(rt.dynamodb, rt.settings, rt.clock()).forget("77", "x")

    assert rt.escalations.cases_of("x", "77") == []
    rows = rt.dynamodb.scan(TableName=rt.settings.table("escalations"))["Items"]
    keys = {from_item(r)["escalation_id"]: from_item(r).get("author_key") for r in rows if "post" in r}
    assert [k for k in keys.values() if k] == ["x#88"]
    assert [c["escalation_id"] for c in rt.escalations.cases_of("x", "88")] == [kept]


def test_carewires_own_incident_items_stay_out_of_the_index(ddb_runtime: Runtime) -> None:
    assert _open(ddb_runtime, "inc-1", "inc-1", "carewire:storms", hours_ago=1, platform="carewire")
    assert ddb_runtime.escalations.cases_of("carewire", "carewire:storms") == []


def test_an_item_from_before_the_index_shows_its_conversations_cases_by_the_same_author(ddb_runtime: Runtime) -> None:
    rt = ddb_runtime
    first = _open(rt, "1", "c1", "77", hours_ago=5)
    _open(rt, "2", "c1", "88", hours_ago=4)  # someone else in the same public thread
    second = _open(rt, "4", "c1", "77", hours_ago=3)
    old = _open(rt, "3", "c1", "77", hours_ago=1)
    for escalation_id in (first, second, old):  # written before by_author existed: no author key
        rt.dynamodb.update_item(
            TableName=rt.settings.table("escalations"),
            Key={"escalation_id": {"S": escalation_id}},
            UpdateExpression="REMOVE author_key",
        )
    item = rt.escalations.get(old)

    assert [c["id"] for c in customer_cases(rt, item, post_of(item["post"]))] == [second, first]  # newest first


def test_index_authors_puts_items_from_before_the_index_into_it_but_never_a_forgotten_one(
    ddb_runtime: Runtime,
) -> None:
    rt = ddb_runtime
    table = rt.settings.table("escalations")
    before = _open(rt, "1", "c1", "77", hours_ago=30)
    forgotten = _open(rt, "2", "c2", "77", hours_ago=20)
    newest = _open(rt, "3", "c3", "77", hours_ago=1)
    for old in (before, forgotten):  # opened before the index existed: no key
        rt.dynamodb.update_item(
            TableName=table, Key={"escalation_id": {"S": old}}, UpdateExpression="REMOVE author_key"
        )
    rt.dynamodb.update_item(
        TableName=table,
        Key={"escalation_id": {"S": forgotten}},
        UpdateExpression="SET forgotten_at = :at",
        ExpressionAttributeValues={":at": {"S": "2026-11-30T10:00:00.000Z"}},
    )
    assert [c["escalation_id"] for c in rt.escalations.cases_of("x", "77")] == [newest]

    assert rt.escalations.index_authors(apply=False) == (3, 1)  # a dry run counts and changes nothing
    assert [c["escalation_id"] for c in rt.escalations.cases_of("x", "77")] == [newest]
    assert rt.escalations.index_authors() == (3, 1)
    assert [c["escalation_id"] for c in rt.escalations.cases_of("x", "77")] == [newest, before]
    assert rt.escalations.index_authors() == (3, 0)  # again: nothing left to do
