"""What a reply replies to: the text of the parent post, for the classifier (a reply mid-thread — "already did
that twice" — means little without it; the care model reads it as `context`).

Two places know a parent's text. The brand's own posts (the replies Carewire sent and the ones agents wrote
natively) come back through the webhooks as the brand's posts and are otherwise skipped: `remember` keeps their
text for `KEEP` in the activity table (`said#<platform>#<post id>`, one PutItem per brand post). A customer's
earlier post has its decision record (`<platform>#<post id>`, which holds the post). `parent_text` reads both in
one BatchGetItem, and only for posts that reply to something: a post that replies to nothing costs nothing.
Nothing is kept for customers' posts here; a lookup that fails leaves the post without context, never without a
decision.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from chalicelib.observability import logger

if TYPE_CHECKING:
    from mypy_boto3_dynamodb import DynamoDBClient

    from chalicelib.model import Post
else:
    DynamoDBClient = Any

KEEP = timedelta(days=7)
"""How long the brand's own posts are kept for the replies to them (TTL): replies come within days."""
MAX_TEXT = 2_000
"""Characters of a parent kept and read: the classifier needs the gist, not a long forum post."""


def said_key(platform: str, post_id: str) -> str:
    return f"said#{platform}#{post_id}"


class ThreadContext:
    def __init__(
        self, client: DynamoDBClient, activity_table: str, decisions_table: str, clock: Callable[[], datetime]
    ) -> None:
        self._client = client
        self._activity = activity_table
        self._decisions = decisions_table
        self._clock = clock

    def remember(self, post: Post) -> None:
        """Keep the text of one of the brand's own posts, for the replies to it (best effort: logged on failure)."""
        if not post.text.strip():
            return
        expires = int((self._clock() + KEEP).timestamp())
        try:
            self._client.put_item(
                TableName=self._activity,
                Item={
                    "pk": {"S": said_key(post.platform, post.post_id)},
                    "text": {"S": post.text[:MAX_TEXT]},
                    "expires_at": {"N": str(expires)},
                },
            )
        except Exception:  # noqa: BLE001 - context is a help to the classifier, never a reason to retry a post
            logger().warning("could not keep the brand's post for its replies", exc_info=True)

    def parent_text(self, post: Post) -> str | None:
        """The text `post` replies to — the brand's own post, or a customer's post Carewire decided — or None."""
        parent = post.in_reply_to_post_id
        if not parent:
            return None
        request: dict[str, Any] = {
            self._activity: {"Keys": [{"pk": {"S": said_key(post.platform, parent)}}], "ProjectionExpression": "#t"},
            self._decisions: {
                "Keys": [{"post_key": {"S": f"{post.platform}#{parent}"}}],
                "ProjectionExpression": "post.#t",
            },
        }
        for table in request.values():
            table["ExpressionAttributeNames"] = {"#t": "text"}
        try:
            got = self._client.batch_get_item(RequestItems=request).get("Responses", {})
        except Exception:  # noqa: BLE001 - decide without context rather than not at all
            logger().warning("could not read the post replied to", exc_info=True)
            return None
        for own in got.get(self._activity, []):
            return str(own["text"]["S"])[:MAX_TEXT]
        from chalicelib.privacy import REDACTED

        for decided in got.get(self._decisions, []):
            text = decided.get("post", {}).get("M", {}).get("text", {}).get("S")
            if text and text != REDACTED:  # a forgotten customer's post says nothing
                return str(text)[:MAX_TEXT]
        return None
