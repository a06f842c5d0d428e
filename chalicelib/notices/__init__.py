"""Service notices: marketers publish them (API, CLI), Carewire answers posts with them.

For the policy engine and the `notice` action (all pure):
    match_notices(notices, post, classification, now) -> list[NoticeMatch]   matching.py
    context_notices(matches, language) -> list[dict]                          matching.py
    notice_reply_text(context_notice, platform, keep) -> str                   ../reply_text.py
    citation_item(notice_id, notice_version, post, classification, now) -> dict   items.py  (Effect("notices", ...))
`Notices.for_post(post, classification, now)` reads the live notices and returns `context_notices(...)`.
The life cycle (create, update, publish, resolve + follow-up, expire, sweep) is `Notices` in service.py.
"""
