"""The app's pages (draw.py, train.py; streamlit_app.py routes to them) and
the Streamlit helpers they share: the model picker's models, cached.

Pages stay thin: they gather input, call network/, and draw.  A loaded
model is worth keeping once per server, for every session.  (These helpers
live in __init__.py because Streamlit lists every other .py file in pages/
as a page when the app is first opened at a page's own address.)
"""

import threading

import streamlit as st
from threadpoolctl import threadpool_limits

from network.modelfile import SHIPPED, list_models, load_model

# One BLAS thread per matrix product in the server.  Alone on a quiet machine
# two threads are faster, but the server trains several sessions at once, and
# OpenBLAS threads competing for 2 cores spin against each other: a 0.2 ms
# product then takes 30 ms (measured; README, "Speed").
threadpool_limits(1, user_api="blas")

# Session keys shared between the pages.
LAST_DRAWING = "last_drawing"   # float32 (28, 28) of the Draw page's latest drawing


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_model(path, mtime):
    """A loaded model, shared by every session; `mtime` makes a rewritten
    file load afresh."""
    return load_model(path)


@st.cache_resource(show_spinner=False, max_entries=16)
def model_lock(path):
    """One reader at a time per shared model: a forward pass keeps its
    activations in the layers for the backward pass (the saliency map)."""
    return threading.Lock()


def model_choices():
    """{label: path} of the shipped models and every saved one."""
    return {SHIPPED.get(name, name): path for name, path in list_models().items()}


def load_chosen_model(path):
    return cached_model(str(path), path.stat().st_mtime)
