"""MNIST for the pages: obtained once per server, with a progress bar the
first time (the Train page trains on it; the Inside page shows its digits and
measures a step on them)."""

import streamlit as st

from network.mnist import fetch_mnist


def shared_mnist():
    """MNIST, obtained on first use with a progress bar; fetch_mnist keeps it
    in memory, read-only, for every session of the server.

    Not st.cache_resource: that would replay the progress bar into a block
    drawn outside the cached function, and every session after the first
    would fail with CacheReplayClosureError."""
    bar = st.empty()

    def show(fraction, message=""):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message or "Obtaining MNIST...")

    try:
        return fetch_mnist(progress=show)
    finally:
        bar.empty()
