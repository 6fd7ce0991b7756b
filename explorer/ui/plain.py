"""Text the app does not control, shown as plain text: never as Markdown, never as HTML.

    plain.alert("warning", f"Ignored {name} from the link: ...")   # a warning box
    plain.alert("error", str(error))                                # messages naming files

`st.warning` and `st.error` render Markdown, so a link like `?[Log in here](http://…)=1`, a folder
named `![x](http://…)` or a stored error message would turn into a live link, an outside image
or a styled fake notice. Everything that quotes a link, a file name or a stored row goes
through here: the text is escaped and drawn in a box that looks like Streamlit's own.
"""

from __future__ import annotations

import html

import streamlit as st

# (background, text colour, border) of each kind, close to Streamlit's light theme.
_STYLES = {
    "info": ("#e8f0fe", "#1c4587", "#c6dafc"),
    "warning": ("#fffbe6", "#7a5a00", "#ffe58f"),
    "error": ("#fff0f0", "#7d1f24", "#ffc9c9"),
}
_ICONS = {"info": "ℹ️", "warning": "⚠️", "error": "⛔"}
# Enough for any message the app writes; a file path or a stored error is cut beyond it.
MAX_CHARACTERS = 600


def alert_html(kind: str, text: str) -> str:
    """The escaped HTML of an alert box (`kind`: info, warning or error)."""
    background, colour, border = _STYLES[kind]
    if len(text) > MAX_CHARACTERS:
        text = text[: MAX_CHARACTERS - 1] + "…"
    style = (
        f"background:{background};color:{colour};border:1px solid {border};border-radius:8px;"
        "padding:0.75rem 1rem;margin:0.25rem 0;white-space:pre-wrap;overflow-wrap:anywhere"
    )
    return (
        f'<div class="plain-alert plain-{kind}" role="alert" style="{style}">'
        f"{_ICONS[kind]} {html.escape(text)}</div>"
    )


def alert(kind: str, text: str) -> None:
    """Show `text` in an alert box as plain text."""
    st.html(alert_html(kind, text))


def caption(text: str) -> None:
    """Show `text` small and grey, as plain text (st.caption renders Markdown)."""
    # #5c5c5c on white is 6.7:1, above WCAG AA's 4.5:1 for small text (Streamlit's own 60 %
    # grey was 3.7:1).
    st.html(
        '<div class="plain-caption" style="font-size:0.875rem;color:#5c5c5c;'
        f'overflow-wrap:anywhere">{html.escape(text)}</div>'
    )


def note(text: str, size: str = "1.1rem") -> None:
    """Show `text` as plain text at font size `size` (a lesson's note, large on a projector)."""
    st.html(
        f'<div class="plain-note" style="font-size:{size};line-height:1.4;overflow-wrap:anywhere">'
        f"{html.escape(text)}</div>"
    )


def heading(bold: str, rest: str = "") -> None:
    """Show `bold` in bold and `rest` after it, both as plain text (a lesson's title and step)."""
    st.html(
        '<div class="plain-heading" style="overflow-wrap:anywhere">'
        f"<strong>{html.escape(bold)}</strong>{html.escape(rest)}</div>"
    )
