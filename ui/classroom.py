"""The Draw page in a class: join by code or link, the "Draw this" round,
and drawings (corrections too) kept in the class.

A student is a random id kept in the browser session, never a name (a
nickname at most, if they choose one: trimmed, shown only as text).  In a
round the page asks for a digit (network/classroom.prompt) and keeps what
the student draws labelled by that digit: stored at the first reading and
redrawn with every stroke, so that the class sees it at once and keeps the
finished digit.  Clear moves on to the next digit.

In a class, the Train page can learn from the class's drawings, trains
only the recipes the teacher allows and saves models into the class; the
Draw page's picker then shows the shipped models and the class's.
"""

import secrets

import streamlit as st

from network.classmodels import class_model_path, delete_class_model, save_class_model
from network.classroom import ROUNDS, class_digits, prompt
from network.database import DatabaseError
from network.errors import UserError
from network.modelfile import SHIPPED
from network.store import NICKNAME_LENGTH, StoreError, normalise_code, open_store

STUDENT = "student_id"          # this browser session's anonymous id
CLASS = "class_code"            # the class joined, or absent
DRAWN = "prompts_drawn"         # how many prompted digits this student has drawn in the class
KEPT = "prompt_drawing"         # the id of the stored drawing of the current prompt
TEACHING = "teaching_class"     # the class whose teacher view this session opened
NICKNAME = "class-nickname"     # the nickname box; its value as the store has it is kept under NICKNAME_KEPT
NICKNAME_KEPT = "class_nickname_kept"
ROUND, FREE = "Draw this", "Free drawing"
CLASS_DATA = "The class's drawings"


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
    nickname_box(info.code)
    return info.code


def nickname_box(code):
    """An optional nickname, shown under this student's drawings on the projector."""
    nickname = st.text_input("Nickname (optional)", key=NICKNAME, max_chars=NICKNAME_LENGTH,
                             placeholder="e.g. Ada", help="Shown under your drawings on the teacher's screen. "
                                                          "No need for your real name.")
    if (code, nickname) == st.session_state.get(NICKNAME_KEPT, (code, "")):
        return
    try:
        open_store().join(code, student_id(), nickname)   # trims it; the class stays joined either way
    except (StoreError, DatabaseError) as error:
        st.warning(f"Your nickname was not kept: {error}")
        return
    st.session_state[NICKNAME_KEPT] = (code, nickname)


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
    """Where a correction goes: (class code or None, this session's anonymous
    id, which fine-tuning splits drawings by)."""
    return st.session_state.get(CLASS), student_id()


# -- the Train page and the model picker, in a class ---------------------------

def current_class():
    """The class this session is in, as a student or as its teacher; or None."""
    return st.session_state.get(CLASS) or st.session_state.get(TEACHING)


def data_choices(choices):
    """The Train page's data choices, with the class's drawings in a class."""
    return list(choices) + ([CLASS_DATA] if current_class() else [])


def class_training_digits():
    """The class's drawings as Digits to train on, or None after a message."""
    code = current_class()
    try:
        digits = class_digits(open_store().drawings(code), code)
    except (UserError, DatabaseError) as error:
        st.warning(f"Not yet: {error}.")
        return None
    st.caption(f"{len(digits):,} drawings of class {code}, labelled by the digit asked for or corrected. "
               "Runs are judged on the dev drawings held out of training.")
    return digits


def allowed_presets(presets):
    """The recipes a student may train in this class (the teacher's choice)."""
    code = st.session_state.get(CLASS)
    try:
        allowed = open_store().recipes(code) if code else None
    except (StoreError, DatabaseError):
        allowed = None
    kept = [p for p in presets if allowed is None or p in allowed] or list(presets)
    if st.session_state.get("train-preset") not in kept:
        st.session_state["train-preset"] = kept[0]
    if len(kept) < len(presets):
        st.caption(f"In class {code} your teacher allows these recipes.")
    return kept


def class_model_choices(choices):
    """The model picker's {label: path}: in a class, the shipped models and
    the class's (each with its accuracy); elsewhere, `choices` as they are."""
    code = current_class()
    if not code:
        return choices
    picked = {label: path for label, path in choices.items() if label in SHIPPED.values()}
    try:
        models = open_store().class_models(code)
    except (StoreError, DatabaseError) as error:
        st.warning(f"The class's models cannot be listed just now: {error}")
        return picked
    for model in models:
        accuracy = "" if model.accuracy is None else f" · {model.accuracy:.1%}"
        owner = "yours" if model.student == st.session_state.get(STUDENT) else "class"
        label = f"{model.name}{accuracy} ({owner})"
        if label in picked:
            label += f" #{model.id[:4]}"
        picked[label] = class_model_path(code, model.id)
    return picked


def save_in_class(net, metadata, name, recipe=""):
    """In a class, save the model into it (or say why not) and return True;
    outside a class return False and let the caller save it as usual."""
    code = st.session_state.get(CLASS)
    if not code:
        return False
    try:
        save_class_model(open_store(), net, metadata, code, student_id(), name, recipe)
    except (UserError, DatabaseError) as error:
        st.error(f"Cannot save: {error}")
    except OSError as error:
        st.error(f"Cannot save: the server could not write the file ({error.strerror or error}).")
    else:
        st.success(f"Saved in class {code} as “{name}”: the class sees it in the Draw page's model picker.")
    return True


def my_class_models():
    """In a class, this student's models there, each with a Delete button."""
    code = st.session_state.get(CLASS)
    if not code:
        return
    try:
        mine = [m for m in open_store().class_models(code) if m.student == student_id()]
    except (StoreError, DatabaseError):
        return
    if not mine:
        return
    st.markdown(f"**Your models in class {code}**")
    for model in mine:
        name_column, button_column = st.columns([4, 1])
        name_column.text(model.name + ("" if model.accuracy is None else f" · {model.accuracy:.1%}"))
        if button_column.button("Delete", key=f"delete-model-{model.id}"):
            delete_class_model(open_store(), code, model.id, student=student_id())
            st.rerun()
