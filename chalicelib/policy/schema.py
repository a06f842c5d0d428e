"""JSON Schema of policy files, built from the action registry (published for editors by
`carewire policies schema`)."""

from __future__ import annotations

from typing import Any

from chalicelib.actions import ACTIONS

RULE_NAME = "^[a-z0-9][a-z0-9_-]{0,79}$"


def rule_file_schema() -> dict[str, Any]:
    action_branches = [
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
                        "order": {"type": "integer"},
                        "when": {
                            "type": "string",
                            "minLength": 1,
                            "description": "JMESPath over {post, classification, channel, now}",
                        },
                        "action": {
                            "type": "object",
                            "properties": {"type": {"enum": sorted(ACTIONS)}},
                            "required": ["type"],
                            "allOf": action_branches,
                        },
                    },
                    "required": ["name", "when", "action"],
                    "additionalProperties": False,
                },
            }
        },
        "required": ["rules"],
        "additionalProperties": False,
    }


TEMPLATES_SCHEMA: dict[str, Any] = {
    "type": "object",
    "properties": {
        "language": {"type": "string", "pattern": "^[a-z]{2,3}$"},
        "templates": {"type": "object", "additionalProperties": {"type": "string", "minLength": 1}},
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
                "properties": {"sla_minutes": {"type": "integer", "minimum": 1}, "description": {"type": "string"}},
                "required": ["sla_minutes"],
                "additionalProperties": False,
            },
        },
    },
    "required": ["queues"],
    "additionalProperties": False,
}
