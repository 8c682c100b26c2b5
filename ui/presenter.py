"""Presenter mode, for a projector: big type for the answer, charts with
large labels, the details folded away.  A toggle in the sidebar, or
`?present=1` in the address (a teacher can bookmark it).

Also the app's screen-saving styles: Streamlit leaves 6rem above a page for
its header, too much on a phone or a 720-pixel projector.
"""

import streamlit as st

PRESENT = "presenter-mode"  # the toggle's key, and session state

_STYLE = """<style>
[data-testid="stMainBlockContainer"] { padding-top: 3.5rem; padding-bottom: 2rem; }
@media (max-height: 820px), (max-width: 640px) {
  [data-testid="stMainBlockContainer"] h1 { font-size: 1.9rem; padding-top: 0.5rem; padding-bottom: 0.25rem; }
}
</style>"""
_PRESENT_STYLE = """<style>
[data-testid="stMainBlockContainer"] p, [data-testid="stMainBlockContainer"] label { font-size: 1.25rem; }
.st-key-prediction p { font-size: 2.6rem; line-height: 1.2; }
</style>"""


def presenter_toggle() -> bool:
    """The sidebar's toggle (started from the address), and the page's styles."""
    if PRESENT not in st.session_state:
        st.session_state[PRESENT] = st.query_params.get("present", "") in ("1", "true", "yes", "on")
    on = st.sidebar.toggle("Presenter mode", key=PRESENT,
                           help="For a projector: big type for the answer, charts with large labels, the "
                                "details folded away. Or add ?present=1 to the address.")
    if on:
        st.query_params["present"] = "1"
    elif "present" in st.query_params:
        del st.query_params["present"]
    st.html(_STYLE + (_PRESENT_STYLE if on else ""))
    return on


def presenting() -> bool:
    """True in presenter mode (the toggle drawn by the router)."""
    return bool(st.session_state.get(PRESENT, False))
