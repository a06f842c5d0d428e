"""Delivery dedupe: a post is decided once, however often and however concurrently it arrives.

Two layers. Powertools idempotency keyed on platform#post_id (never the SQS message id) returns the
stored outcome to a redelivery without re-running anything. A twin that finds the key in progress is
not acknowledged: it raises PostInProgress and its queue retries it later — the first holder may have
died (kill -9, a Lambda timeout), and its in-progress record then expires after the Lambda's remaining
time (locally IN_PROGRESS_MS) and the retry takes the post over. Behind it, the decision record is
written with a condition (see `Store.record`), so a takeover of a holder that was only slow, or a
redelivery after idempotency records expire, never gives a post a second decision.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from chalicelib.intake_queue import RetryLater
from chalicelib.model import Post

if TYPE_CHECKING:
    from aws_lambda_powertools.utilities.typing import LambdaContext

EXPIRES_AFTER_SECONDS = 8 * 24 * 3600
"""Longer than any platform retries (WhatsApp: 7 days; X replay: 5 days)."""


@dataclass(frozen=True)
class Once:
    result: dict[str, Any]
    duplicate: bool


IN_PROGRESS_MS = 10_000
"""Outside Lambda: how long an in-progress record holds its post before a redelivery takes it over.
Deciding a post takes milliseconds; a holder slower than this is raced safely by the conditional write."""


class PostInProgress(RetryLater):
    """Another delivery of this post is being processed (or its holder died): retry, do not acknowledge."""


class LocalContext:
    """Stands in for a Lambda context outside Lambda so an in-progress key expires if a process dies."""

    def __init__(self, timeout_ms: int = IN_PROGRESS_MS) -> None:
        self._timeout_ms = timeout_ms

    def get_remaining_time_in_millis(self) -> int:
        return self._timeout_ms


class DeliveryDedupe:
    def __init__(self, table_name: str, client: Any, in_progress_ms: int = IN_PROGRESS_MS) -> None:
        from aws_lambda_powertools.utilities.idempotency import (
            DynamoDBPersistenceLayer,
            IdempotencyConfig,
            idempotent_function,
        )

        self._config = IdempotencyConfig(
            event_key_jmespath="key",
            expires_after_seconds=EXPIRES_AFTER_SECONDS,
            raise_on_no_idempotency_key=True,
            response_hook=lambda response, _record: {**response, "duplicate": True},
        )
        self._in_progress_ms = in_progress_ms
        persistence = DynamoDBPersistenceLayer(table_name=table_name, boto3_client=client)
        self._once = idempotent_function(
            data_keyword_argument="post_doc",
            persistence_store=persistence,
            config=self._config,
            key_prefix="carewire.post",
        )(self._call)

    @staticmethod
    def _call(post_doc: dict[str, Any], post: Post, work: Callable[[Post], dict[str, Any]]) -> dict[str, Any]:
        return work(post)

    def run_once(self, post: Post, work: Callable[[Post], dict[str, Any]], context: Any = None) -> Once:
        from aws_lambda_powertools.utilities.idempotency.exceptions import IdempotencyAlreadyInProgressError

        self._config.register_lambda_context(cast("LambdaContext", context or LocalContext(self._in_progress_ms)))
        try:
            result = self._once(post_doc={"key": post.key}, post=post, work=work)
        except IdempotencyAlreadyInProgressError as exc:
            raise PostInProgress(f"{post.key} is being processed by another delivery; retry later") from exc
        return Once(result, duplicate=bool(result.pop("duplicate", False)))
