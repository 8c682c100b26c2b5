"""The Train page's address is its lesson link (network/lesson_link.py).

Opening the page with a link sets its controls from the link, once per new
address; every run writes the page's settings back into the address, so
"Copy lesson link" hands out exactly what is on the screen.  Controls the
link hides are never drawn: their values come from the link, or the
defaults.
"""

import streamlit as st

from network.lesson_link import Lesson, lesson_query, read_lesson

LESSON = "train_lesson"          # session state: the Lesson of the link this session opened
WRITTEN = "train_lesson_query"   # session state: the query this page last wrote
KEYS = {"preset": "train-preset", "axis": "train-x-axis", "hidden": "train-hidden", "conv": "train-conv",
        "activation": "train-activation", "init": "train-init", "dropout": "train-dropout",
        "optimizer": "train-optimizer", "lr": "train-lr", "schedule": "train-schedule", "l2": "train-l2",
        "batch": "train-batch", "augment": "train-augment", "per_class": "train-per-class",
        "dev_size": "train-dev-size", "seed": "train-seed"}
LENGTH, UNIT = "train-length", "train-length-unit"


def open_link() -> Lesson:
    """The lesson in the page's address; a new address sets the controls
    (before they are drawn) and says, in one message, what it could not use."""
    query = st.query_params.to_dict()
    lesson = st.session_state.get(LESSON)
    if lesson is None or query != st.session_state.get(WRITTEN):
        lesson = read_lesson(query)
        st.session_state[LESSON] = lesson
        st.session_state[WRITTEN] = query
        for name in ("preset", "axis"):
            if getattr(lesson, name):
                st.session_state[KEYS[name]] = getattr(lesson, name)
        for name, value in lesson.settings.items():
            if name in ("epochs", "iterations"):
                st.session_state[UNIT], st.session_state[LENGTH] = name, value
            else:
                st.session_state[KEYS[name]] = value
    if lesson.message():
        st.warning(lesson.message())
    return lesson


def hidden(name: str) -> bool:
    lesson = st.session_state.get(LESSON)
    return lesson is not None and name in lesson.hide


def hidden_value(name: str, default):
    """A hidden setting's value: the link's, else the default."""
    return st.session_state[LESSON].settings.get(name, default)


def write_link(preset: str, settings: dict | None) -> None:
    """Put the page's current recipe into its address."""
    lesson = st.session_state.get(LESSON) or Lesson()
    query = lesson_query(preset, settings or {}, st.session_state.get(KEYS["axis"]), lesson.hide)
    if query != st.query_params.to_dict():
        st.query_params.from_dict(query)
    st.session_state[WRITTEN] = query


def copy_link_button() -> None:
    """The page's address with its recipe, to copy (the copy icon of a code block)."""
    with st.popover("Copy lesson link", icon=":material/link:"):
        st.caption("Anyone who opens this link gets this recipe and chart axis; add `&hide=lr,optimizer` "
                   "(any settings) to keep controls off their page.")
        url = st.context.url or ""
        query = "&".join(f"{name}={value}" for name, value in st.session_state.get(WRITTEN, {}).items())
        with st.container(key="train-lesson-link"):
            st.code(f"{url.split('?')[0]}?{query}" if query else url, language=None, wrap_lines=True)
