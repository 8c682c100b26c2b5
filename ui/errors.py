"""How a page shows what went wrong: a user's mistake in its own words, a
bug as a short apology, its traceback in the server's log (never on the page)."""

import logging

import streamlit as st

log = logging.getLogger(__name__)


def show_bug(what: str) -> None:
    """Call from an `except Exception` block: log the traceback, tell the user briefly."""
    log.exception("%s failed", what)
    st.error(f"{what} failed: something went wrong on the server. It has been logged; please try again.")
