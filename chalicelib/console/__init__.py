"""The web console for agents, marketers and care leads (issue 16): a backend-for-frontend under
/console (`routes.py`), read models composed for its screens (`views.py`; agents' label corrections go
through `chalicelib/escalations/corrections.py`, as the agent API's do), and the static app
(`static/`: plain HTML, CSS and one ES module, no build step)."""
