"""The outbox: the one owner of everything Carewire will say on a platform (see `item.py`)."""

from chalicelib.outbox.item import (
    FINAL,
    KINDS,
    OPEN,
    STATES,
    OutboxItem,
    OutboxRejected,
    check_public_text,
    outbox_item,
)

__all__ = ["FINAL", "KINDS", "OPEN", "STATES", "OutboxItem", "OutboxRejected", "check_public_text", "outbox_item"]
