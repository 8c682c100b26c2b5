"""The Draw page in a class: join by code or link, the "Draw this" round,
and drawings (corrections too) kept in the class.

A student is a random id kept in the browser session, never a name.  In a
round the page asks for a digit (network/classroom.prompt) and keeps what
the student draws labelled by that digit: stored at the first reading and
redrawn with every stroke, so that the class sees it at once and keeps the
finished digit.  Clear moves on to the next digit.
"""

import secrets

import streamlit as st

from network.classroom import ROUNDS, prompt
from network.database import DatabaseError
from network.store import StoreError, normalise_code, open_store

STUDENT = "student_id"          # this browser session's anonymous id
CLASS = "class_code"            # the class joined, or absent
DRAWN = "prompts_drawn"         # how many prompted digits this student has drawn in the class
KEPT = "prompt_drawing"         # the id of the stored drawing of the current prompt
ROUND, FREE = "Draw this", "Free drawing"


def student_id():
    if STUDENT not in st.session_state:
        st.session_state[STUDENT] = secrets.token_urlsafe(12)
    return st.session_state[STUDENT]


def class_bar():
    """The class code box, filled from a join link (/?class=K7Q2); returns
    the code of the class this student is in, or None."""
    if "class-join" not in st.session_state:
        st.session_state["class-join"] = normalise_code(st.query_params.get("class", ""))[:8]
    code = normalise_code(st.text_input("Class code", key="class-join", max_chars=8, placeholder="e.g. K7Q2",
                                        help="In a class? Type the code your teacher shows; "
                                             "your drawings then go to the class (no names are kept)."))
    if not code:
        _leave()
        return None
    try:
        if code != st.session_state.get(CLASS):
            info = open_store().join(code, student_id())
            st.session_state.update({CLASS: info.code, DRAWN: 0})
            st.session_state.pop(KEPT, None)
            st.query_params["class"] = info.code
        info = open_store().find_class(code)
        if not info.is_open:
            raise StoreError(f"Class {info.code} is closed: drawings are not kept any more.")
    except (StoreError, DatabaseError) as error:
        st.error(str(error))
        _leave()
        return None
    return info.code


def _leave():
    for key in (CLASS, KEPT):
        st.session_state.pop(key, None)
    if "class" in st.query_params:
        del st.query_params["class"]


def show_prompt(code):
    """In a class, the round or free drawing; in a round, the digit to draw
    (the `draw-prompt` container), else None."""
    if code is None:
        return None
    mode = st.segmented_control("In class", [ROUND, FREE], default=ROUND, key="class-mode",
                                label_visibility="collapsed")
    if mode == FREE:
        st.caption(f"Class {code}: if the network reads you wrong, your correction goes to the class.")
        return None
    n = st.session_state.get(DRAWN, 0)
    digit = prompt(student_id(), n)
    with st.container(key="draw-prompt"):
        st.markdown(f"### Draw a {digit}")
        done = f"{n} drawn" if n < 10 * ROUNDS else f"{n} drawn: every digit {ROUNDS} times, thank you!"
        st.caption(f"Class {code} · {done} · press Clear for the next digit")
    return digit


def next_prompt():
    """Clear's work in a round: the kept drawing stays, the next digit comes."""
    if st.session_state.pop(KEPT, None) is not None:
        st.session_state[DRAWN] = st.session_state.get(DRAWN, 0) + 1


def keep_prompted(code, digit, drawing, image_data, reading, model_label):
    """Store the round's drawing labelled by the prompt (the first reading),
    or redraw it (every later stroke), and say how the network did."""
    confidence = float(reading.probabilities[reading.digit])
    kept = st.session_state.get(KEPT)
    try:
        store = open_store()
        if kept is None:
            st.session_state[KEPT] = store.add_drawing(
                drawing.pixels, digit, "prompt", predicted=reading.digit, confidence=confidence,
                model=model_label, canvas=image_data, class_code=code, student=student_id())
        elif not store.redraw(kept, student_id(), drawing.pixels, reading.digit, confidence, model_label,
                              image_data):
            st.warning("This drawing is no longer kept by the class (removed, or the class closed).")
            return
    except (StoreError, DatabaseError) as error:
        st.error(f"Your drawing was not kept: {error}")
        return
    if reading.digit == digit:
        st.success(f"Kept for the class as a {digit}, and the network read it right.")
    else:
        st.warning(f"Kept for the class as a {digit}: the network read a {reading.digit}. "
                   "Your handwriting is exactly what it needs to learn from.")


def correction_place():
    """Where a correction goes: (class code or None, student id)."""
    code = st.session_state.get(CLASS)
    return code, student_id() if code else ""
