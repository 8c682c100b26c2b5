"""The models the pages read with: loaded once per server, shared by every session."""

import streamlit as st

from network.modelfile import SHIPPED, list_models, load_model


@st.cache_resource(show_spinner=False, max_entries=16)
def cached_model(path, mtime):
    """A loaded model, shared by every session; `mtime` makes a rewritten
    file load afresh."""
    return load_model(path)


def model_choices():
    """{label: path} of the shipped models and every saved one."""
    return {SHIPPED.get(name, name): path for name, path in list_models().items()}


def linked_model():
    """(label, path) of the model a link fixes (`/?model=seed`), or None;
    an unknown name gets a message, and the page its usual picker."""
    name = st.query_params.get("model")
    if name is None:
        return None
    models = list_models()
    if name in models:
        return SHIPPED.get(name, name), models[name]
    st.warning(f"This link asks for the model “{name[:64]}”, which is not on this server, so you can choose one: "
               f"{', '.join(models)}.")
    return None


def load_chosen_model(path):
    return cached_model(str(path), path.stat().st_mtime)
