"""JSON Schema of policy files, built from the action registry (published for editors by
`carewire policies schema`)."""

from __future__ import annotations

from typing import Any

from chalicelib.actions import ACTIONS
from chalicelib.policy.fields import valid_fields

RULE_NAME = "^[a-z0-9][a-z0-9_-]{0,79}$"


def _action_schema() -> dict[str, Any]:
    branches = [
        {
            "if": {"properties": {"type": {"const": name}}},
            "then": {
                "properties": {"type": {"const": name}, **action.schema["properties"]},
                "required": ["type", *action.schema.get("required", [])],
                "additionalProperties": False,
            },
        }
        for name, action in ACTIONS.items()
    ]
    return {
        "type": "object",
        "properties": {"type": {"enum": sorted(ACTIONS)}},
        "required": ["type"],
        "allOf": branches,
    }


def rule_file_schema() -> dict[str, Any]:
    names = {"type": "array", "items": {"type": "string"}, "uniqueItems": True}
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "title": "Carewire rule file (policies/rules/*.yaml)",
        "type": "object",
        "properties": {
            "rules": {
                "type": "array",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string", "pattern": RULE_NAME},
                        "description": {"type": "string"},
                        "order": {"type": "integer", "description": "lower runs first; default: file order"},
                        "scope": {
                            "type": "object",
                            "properties": {"channels": names, "platforms": names, "brands": names},
                            "additionalProperties": False,
                        },
                        "when": {
                            "type": "string",
                            "minLength": 1,
                            "description": "JMESPath over {post, classification, author, conversation, channel, "
                            "brand, notices, incident, now}; classification fields: " + ", ".join(valid_fields()),
                        },
                        "unless": {"type": "string", "minLength": 1},
                        "actions": {"type": "array", "items": _action_schema(), "minItems": 1},
                        "stop": {"type": "boolean", "description": "stop at this rule when it acts (default true)"},
                        "shadow": {"type": "boolean", "description": "record what it would do; do nothing"},
                        "allow_unaddressed": {
                            "type": "boolean",
                            "description": "may reply to a post not addressed to the brand",
                        },
                        "schedule": {
                            "type": "object",
                            "properties": {
                                "calendar": {"type": "string"},
                                "during": {"enum": ["business_hours", "outside_business_hours"]},
                            },
                            "required": ["calendar", "during"],
                            "additionalProperties": False,
                        },
                    },
                    "required": ["name", "when", "actions"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["rules"],
        "additionalProperties": False,
    }


_TEMPLATE = {
    "oneOf": [
        {"type": "string", "minLength": 1},
        {
            "type": "object",
            "properties": {
                "text": {"type": "string", "minLength": 1},
                "promotional": {"type": "boolean"},
                "needs_account": {"type": "boolean"},
            },
            "required": ["text"],
            "additionalProperties": False,
        },
    ]
}

GUARDRAILS_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "reply_budgets": {
            "type": "object",
            "properties": {
                "public_replies_per_conversation_24h": {"type": "integer", "minimum": 0},
                "automated_replies_per_author_per_day": {"type": "integer", "minimum": 0},
                "public_replies_per_channel_per_hour": {"type": "integer", "minimum": 0},
            },
            "additionalProperties": False,
        },
        "post_age": {
            "type": "object",
            "properties": {
                "max_reply_age_hours": {
                    "type": "number",
                    "exclusiveMinimum": 0,
                    "description": "no automated reply to a post older than this many hours",
                },
            },
            "additionalProperties": False,
        },
    },
    "additionalProperties": False,
}


TEMPLATES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "language": {"type": "string", "pattern": "^[a-z]{2,3}$"},
        "templates": {"type": "object", "additionalProperties": _TEMPLATE},
    },
    "required": ["language", "templates"],
    "additionalProperties": False,
}

QUEUES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "default_language": {"type": "string"},
        "queues": {
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": {
                    "sla_minutes": {"type": "integer", "minimum": 1},
                    "sla_by_priority": {
                        "type": "object",
                        "additionalProperties": {"type": "integer", "minimum": 1},
                        "description": "priority (1..5) → SLA minutes, overriding sla_minutes",
                    },
                    "calendar": {"type": "string", "description": "a calendar from policies/calendars.yaml"},
                    "shards": {"type": "integer", "minimum": 1, "maximum": 16},
                    "description": {"type": "string"},
                },
                "required": ["sla_minutes"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["queues"],
    "additionalProperties": False,
}
