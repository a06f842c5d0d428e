"""The labels Carewire judges posts by: topics (in the model's head order; the guideline's precedence is another
order, cancellation first), the intents within each topic, and sentiments — and the rule that holds whole
operators out for testing. One definition for training, the corpus build, agents' corrections and the console.

Stdlib only: `corpus/build.py` (stdlib only) reads it too."""

import zlib

TOPICS = ("outage", "billing", "device", "account", "cancellation", "service_complaint", "praise", "other")
INTENTS: dict[str, tuple[str, ...]] = {
    "outage": ("no_service", "slow_speed", "intermittent", "tv_down", "app_down", "area_query", "general"),
    "billing": ("overcharge", "refund", "payment", "price_rise", "roaming", "general"),
    "device": ("repair", "unlock", "upgrade", "delivery", "setup", "general"),
    "account": ("login", "sim", "porting_in", "plan_change", "moving", "appointment", "security", "general"),
    "cancellation": ("cancel", "switch_to_competitor", "contract_end", "general"),
    "service_complaint": ("no_response", "wait_time", "staff", "technician", "general"),
    "praise": ("general",),
    "other": ("question", "sales", "chat", "general"),
}
SENTIMENTS = ("negative", "neutral", "positive")


def held_out(operator: str) -> bool:
    """Whether an operator's posts are test rows (never trained or tuned on): crc32 of its lowercased name, 1 in 5."""
    return zlib.crc32(operator.lower().encode("utf-8")) % 5 == 0
