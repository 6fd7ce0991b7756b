"""Reading a page in AppTest (streamlit.testing.v1) the way a student reads it."""

from __future__ import annotations

import html
import re

_TAGS = re.compile(r"<[^>]+>")


def alerts(app, kind: str) -> list[str]:
    """The text of every alert of `kind` (info, warning, error) on the page: Streamlit's own
    (st.warning ...) and the plain-text ones that quote links, files and stored rows."""
    own = [element.value for element in getattr(app, kind)]
    plain = [
        html.unescape(_TAGS.sub("", element.proto.body))
        for element in app.get("html")
        if f"plain-{kind}" in element.proto.body
    ]
    return own + plain


def page_service():
    """The service the page in AppTest uses: AppTest runs the page in this process, so the
    server's shared service (explorer.ui.resources) is this process's too."""
    from explorer.ui import roles
    from explorer.ui.resources import get_service

    return get_service(roles.class_mode())


def open_panel(app, key: str):
    """Open the lazy expander `key` (explorer.ui.lazy) as a click would, and run the page:
    its contents are drawn only while it is open."""
    app.session_state[key] = True
    return app.run()
