"""HTTP APIs beyond the webhooks, one Chalice blueprint per audience, registered in app.py."""
