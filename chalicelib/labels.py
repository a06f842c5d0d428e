"""The labels Carewire judges posts by: topics (in precedence order of the labelling guideline), the intents within
each topic, and sentiments. One definition for training, the corpus build, agents' corrections and the console.

No imports: `corpus/build.py` (stdlib only) reads it too."""

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
