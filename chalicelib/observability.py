"""Powertools Logger, Metrics and Tracer, built lazily.

Logs are JSON with channel, platform and post id as keys; every string in a record (message, extra keys,
exception text, nested values) is passed through the PII mask.
The X-Ray SDK behind Tracer costs ~240 ms of cold start, so Tracer is built only where traces go
somewhere: in Lambda with active tracing (`_X_AMZN_TRACE_ID` set).
"""

from __future__ import annotations

import os
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools import Logger, Metrics
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter
from aws_lambda_powertools.metrics import MetricUnit

from chalicelib.pii import mask

if TYPE_CHECKING:
    from aws_lambda_powertools import Tracer

SERVICE = "carewire"
NAMESPACE = "Carewire"


_UNMASKED = frozenset(
    {
        "level",
        "location",
        "timestamp",
        "service",
        "sampling_rate",
        "xray_trace_id",
        "cold_start",
        "function_name",
        "function_memory_size",
        "function_arn",
        "function_request_id",
        "channel",
        "platform",
        "post_id",
    }
)
"""Top-level keys set by Powertools or by `post_keys` from platform ids: never personal data, and a long post
id would otherwise read as an ICCID. Every other key is masked, whatever it is called."""
_SCALARS = (int, float, bool, type(None))


def masked(value: Any) -> Any:
    """`value` with every string in it (dict keys included, at any depth) masked; anything that is not
    JSON becomes its masked `str`, which is how the log would have shown it."""
    if isinstance(value, str):
        return mask(value)
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, dict):
        return {(mask(k) if isinstance(k, str) else k): masked(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [masked(v) for v in value]
    return mask(str(value))


class MaskingFormatter(LambdaPowertoolsFormatter):
    """Masks personal data in every field of the record just before it is written."""

    def serialize(self, log: dict[str, Any]) -> str:  # type: ignore[override]
        return super().serialize(
            {k: (v if k in _UNMASKED and isinstance(v, str | int | float) else masked(v)) for k, v in log.items()}
        )


@lru_cache(maxsize=1)
def logger() -> Logger:
    return Logger(service=SERVICE, logger_formatter=MaskingFormatter())


_cold_start = [True]


def bind_invocation(context: Any) -> None:
    """Put the Lambda context (function, request id) and whether this is the container's cold start on every log
    line of the invocation, as Powertools' `inject_lambda_context` would; no context (tests, local) adds nothing."""
    if context is None or not getattr(context, "aws_request_id", None):
        return
    logger().append_keys(
        function_name=getattr(context, "function_name", None),
        function_request_id=context.aws_request_id,
        cold_start=_cold_start[0],
    )
    _cold_start[0] = False


@lru_cache(maxsize=1)
def metrics() -> Metrics:
    return Metrics(namespace=os.environ.get("POWERTOOLS_METRICS_NAMESPACE", NAMESPACE), service=SERVICE)


@lru_cache(maxsize=1)
def tracer() -> Tracer | None:
    if not os.environ.get("_X_AMZN_TRACE_ID") or os.environ.get("POWERTOOLS_TRACE_DISABLED", "").lower() == "true":
        return None
    from aws_lambda_powertools import Tracer

    return Tracer(service=SERVICE)


def subsegment(name: str) -> Any:
    active = tracer()
    return active.provider.in_subsegment(name) if active is not None else nullcontext()


class Counters:
    """Every count goes to CloudWatch (EMF via Powertools Metrics) and to an in-process tally that the
    local runner prints and tests read."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tally: Counter[str] = Counter()

    def count(self, name: str, value: int = 1) -> None:
        with self._lock:
            self.tally[name] += value
            metrics().add_metric(name=name, unit=MetricUnit.Count, value=value)

    def flush(self) -> None:
        with self._lock:
            if metrics().metric_set:
                metrics().flush_metrics()


COUNTERS = Counters()


@contextmanager
def post_keys(**keys: str) -> Iterator[None]:
    """Log keys for the post being handled (channel, platform, post_id), removed afterwards."""
    log = logger()
    log.thread_safe_append_keys(**keys)
    try:
        yield
    finally:
        log.thread_safe_remove_keys(list(keys))
