"""The page's own CSS: what makes it fit a projector, and presenter mode's large type.

    styles.apply(presenter=False)

Everything here is layout and size; no colours of Streamlit's theme are changed.
"""

from __future__ import annotations

import streamlit as st

# Always: nothing wider than its column. Charts and tables get a horizontal scrollbar of their
# own rather than widening the page. The page starts just below Streamlit's header bar (3.75rem,
# drawn over the page), not under it: Streamlit's own 6rem would cost a projector two lines.
_FIT = """
<style>
.stMainBlockContainer { padding-top: 4rem; }
[data-testid="stHtml"] { max-width: 100%; overflow-x: auto; }
[data-testid="stVegaLiteChart"] { max-width: 100%; }
/* Columns inside a container keyed "wrap_…" (charts side by side) go onto another line rather
   than squeeze a chart below 20rem, where its title and legend were cut short ("Loss (lower is
   b…") on a projector. A column left alone on its line takes the whole width. */
[class*="st-key-wrap_"] [data-testid="stHorizontalBlock"] { flex-wrap: wrap; row-gap: 1rem; }
[class*="st-key-wrap_"] [data-testid="stColumn"] { min-width: min(100%, 20rem); }
/* A metric's change wraps inside its badge rather than end in "…": in Compare's narrow
   columns "−0.85 percentage points" read "−0.85 percent…". */
[data-testid="stMetricDelta"], [data-testid="stMetricDelta"] * {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important;
  height: auto !important;
}
/* On a narrow screen a chart's toolbar (full screen, data) covered the title above it. */
@media (max-width: 800px) { [data-testid="stElementToolbar"] { display: none; } }
</style>
"""
# Presenter mode: large type for the back of the room, a thick progress bar, no teacher controls.
_PRESENTER = """
<style>
html { font-size: 20px; }
.stMainBlockContainer { max-width: 100%; padding-left: 1.5rem; padding-right: 1.5rem; }
[data-testid="stProgress"] > div > div > div { height: 1.4rem !important; }
[data-testid="stMetricValue"] { font-size: 2.4rem; }
.teacher-only { display: none !important; }
[data-testid="stElementToolbar"] { display: none; }
</style>
"""


def apply(presenter: bool) -> None:
    st.html(_FIT + (_PRESENTER if presenter else ""))
