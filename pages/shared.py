"""Streamlit helpers both pages use: cached data and models.

Pages stay thin: they gather input, call network/, and draw.  What is worth
computing once per server (the dataset, a loaded model) is cached here.
"""

import streamlit as st

from network.data import fetch_mnist
from network.modelfile import SHIPPED, list_models, load_model

# Session keys shared between the pages.
LAST_DRAWING = "last_drawing"   # float32 (28, 28) of the Draw page's latest drawing


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_model(path, mtime):
    """A loaded model, shared by every session; `mtime` makes a rewritten
    file load afresh."""
    return load_model(path)


def model_choices():
    """{label: path} of the shipped models and every saved one."""
    return {SHIPPED.get(name, name): path for name, path in list_models().items()}


def load_chosen_model(path):
    return cached_model(str(path), path.stat().st_mtime)


@st.cache_resource(show_spinner="Obtaining MNIST (first use only)...")
def _mnist(_progress):
    return fetch_mnist(progress=_progress)


def cached_mnist():
    """MNIST, obtained on first use with a progress bar, then shared
    (read-only) by every session of the server.  Raises DataError."""
    bar = st.empty()

    def show(fraction, message=""):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message or "Obtaining MNIST...")

    try:
        return _mnist(show)
    finally:
        bar.empty()
