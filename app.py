"""Carewire's Chalice app: wiring only. Each handler parses, makes one call into chalicelib, returns."""

from __future__ import annotations

from typing import Any

from chalice.app import Chalice, Rate, Request, Response

from chalicelib import runtime
from chalicelib.api.agents import agents
from chalicelib.api.corrections import corrections
from chalicelib.api.http import KNOWN_ERRORS, error_response
from chalicelib.api.incidents import incidents
from chalicelib.api.notices import notices
from chalicelib.console.routes import console
from chalicelib.observability import COUNTERS, bind_invocation, logger

INTAKE_QUEUE_ARN = "arn:aws:sqs:us-east-1:000000000000:carewire-intake"
"""A placeholder: infra/resources.yaml replaces it with the stack's own IntakeQueue (no fixed queue names)."""

app = Chalice(app_name="carewire", configure_logs=False)
app.register_blueprint(agents, url_prefix="/agent")
app.register_blueprint(corrections, url_prefix="/agent")
app.register_blueprint(notices, url_prefix="/notices")
app.register_blueprint(incidents, url_prefix="/incidents")
app.register_blueprint(console, url_prefix="/console")


def _request() -> Request:
    request = app.current_request
    if request is None:  # only outside an HTTP invocation
        raise RuntimeError("no current request")
    return request


def _raw_body(request: Request) -> bytes:
    body = request.raw_body
    return body.encode("utf-8") if isinstance(body, str) else body


@app.middleware("all")
def observe(event: Any, get_response: Any) -> Any:
    bind_invocation(app.lambda_context)
    try:
        return get_response(event)
    finally:
        COUNTERS.flush()
        logger().clear_state()


@app.route("/webhooks/{channel}", methods=["GET"])
def webhook_challenge(channel: str) -> Response:
    try:
        answer = runtime.current().intake.challenge(channel, _request().query_params)
    except KNOWN_ERRORS as exc:
        return error_response(exc)
    return Response(body=answer.body, status_code=200, headers={"Content-Type": answer.content_type})


@app.route("/webhooks/{channel}", methods=["POST"], content_types=["application/json"])
def webhook_delivery(channel: str) -> Response:
    request = _request()
    try:
        receipt = runtime.current().intake.deliver(channel, request.headers, _raw_body(request))
    except KNOWN_ERRORS as exc:
        return error_response(exc)
    body = {"accepted": receipt.accepted, "skipped": receipt.skipped, "invalid": receipt.invalid}
    return Response(body=body, status_code=200)


@app.on_sqs_message(queue_arn=INTAKE_QUEUE_ARN, batch_size=10)
def process_intake(event: Any) -> dict[str, Any]:
    from chalicelib.processor import process_sqs_batch

    return process_sqs_batch(runtime.current().processor, event.to_dict(), event.context)


@app.schedule(Rate(5, unit=Rate.MINUTES))
def expire_notices(event: Any) -> dict[str, Any]:
    """Start scheduled notices whose time has come; expire those past ends_at."""
    return runtime.current().notices.sweep().to_doc()


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_slas(event: Any) -> dict[str, Any]:
    """Return expired leases to their queues; mark, count, notify and bump escalations at risk or breached."""
    from chalicelib.escalations.sweep import run

    return run(runtime.current())


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_storms(event: Any) -> dict[str, Any]:
    """Finish incident setups a crash cut short; close incidents whose storm has passed."""
    rt = runtime.current()
    return rt.storms.sweep(rt.clock())


@app.lambda_function(name="deliver_outbox")
def deliver_outbox(event: dict[str, Any], context: Any) -> dict[str, Any]:
    """The outbox stream (new items, infra/resources.yaml): deliver each named lane, partial batch failures."""
    from chalicelib.delivery.sender import process_stream_batch

    return process_stream_batch(runtime.current().sender, event, context)


@app.schedule(Rate(1, unit=Rate.MINUTES))
def sweep_outbox(event: Any) -> dict[str, Any]:
    """Retries whose time came, channels whose pause ended, unknowns to reconcile, leases that ran out."""
    import time

    reports = runtime.current().sender.sweep(deadline=time.monotonic() + 45)
    return {"lanes": len(reports), "settled": sum(r.settled for r in reports)}
