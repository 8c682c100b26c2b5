"""The Draw page's honest answer when a drawing is not a digit (network/novelty.py)."""

import logging

import streamlit as st

from network.novelty import AtlasError, drawing_looks_like_a_digit, load_atlas
from ui.charts import probability_chart
from ui.words import a_digit

log = logging.getLogger(__name__)


@st.cache_resource(show_spinner=False)
def digit_atlas():
    """The shipped digit atlas, loaded once per server; None without one
    (drawings are then read without the check, as before it existed)."""
    try:
        return load_atlas()
    except AtlasError:
        log.exception("the digit atlas cannot be used; drawings are read without the check")
        return None


def is_a_digit(drawing) -> bool:
    """Whether the prepared drawing looks like some digit; True when there is no atlas."""
    atlas = digit_atlas()
    return atlas is None or drawing_looks_like_a_digit(atlas, drawing)


def show_not_a_digit(reading, big):
    """Say plainly that this is no digit, with the network's best guess and
    why the network alone would have been sure of it."""
    digit = reading.digit
    with st.container(key="prediction"):
        st.markdown(f"<div class='answer-digit' style='font-size:{'11rem' if big else '5rem'};line-height:1;"
                    "font-weight:700'>?</div>", unsafe_allow_html=True)
        st.markdown(f"This does not look like a digit to me; my best guess is **{a_digit(digit)}**.")
    st.info(f"Alone, the network would say “{a_digit(digit)}, {float(reading.probabilities[digit]):.0%} sure”: "
            "it has only ever seen digits, so it answers everything with one. This drawing is far from all "
            "10,000 handwritten digits it is compared with, so I do not trust that answer.")
    st.vega_lite_chart(*probability_chart(reading.probabilities, big), width="stretch")
