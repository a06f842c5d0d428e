"""The delivery stage: platform clients and the sender that empties the outbox (see `sender.py`)."""
