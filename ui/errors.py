"""How a page shows what went wrong: a user's mistake in its own words, a
bug as a short apology, its traceback in the server's log (never on the page)."""

import functools
import logging

import streamlit as st

log = logging.getLogger(__name__)


def show_bug(what: str) -> None:
    """Call from an `except Exception` block: log the traceback, tell the user briefly."""
    log.exception("%s failed", what)
    st.error(f"{what} failed: something went wrong on the server. It has been logged; please try again.")


def guarded(draw, what):
    """`draw` with its bugs shown as show_bug(what) (for fragments, which rerun
    without the page around them)."""
    @functools.wraps(draw)
    def run(*args, **kwargs):
        try:
            return draw(*args, **kwargs)
        except Exception:  # Streamlit's reruns and stops are not Exceptions: they pass
            show_bug(what)
    return run
