"""Inside page: the seed notebook's equations, run on the learner's own
drawing, forward and backward, one gradient step at a time.

The numbers all come from network/backprop.py, which walks the network's
own layers; ui/inside_passes.py sets them next to their equations.  Steps
change a private copy of the model kept in the session: the model files and
the model other sessions share never change.
"""

import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from network.backprop import NotDense, dense_layers, learn, private_copy, trace
from network.digits import per_digit_subset
from network.errors import DataError
from network.images import read_canvas
from network.modelfile import SHIPPED, ModelFileError, input_blur
from network.preprocess import canvas_to_mnist
from ui.inside_numbers import article
from ui.inside_passes import show_backward, show_forward
from ui.mnist import shared_mnist
from ui.models import load_chosen_model, model_choices
from ui.routing import routed
from ui.session import LAST_DRAWING

routed()  # before anything is drawn: see ui/routing.py

CANVAS_SIZE = 280
MAX_PARAMS = 2_000_000  # every session gets its own copy (weights and gradients): 16 MB at most
TEST_PER_DIGIT = 100    # 1,000 MNIST test digits measure what a step did to the rest

# Session state.
COPY = "inside_copy"            # {"key": (path, mtime), "net": private Network, "steps", "start", "last"}
ROUND = "inside_canvas_round"   # canvas number: a new key is a blank canvas
RANDOM = "inside_random_index"  # the MNIST test digit shown
NO_MNIST = "inside_no_mnist"    # why MNIST could not be had, so it is not tried on every click

SOURCES = ("Draw it here", "My drawing from the Draw page", "A random MNIST test digit")


# -- the model and the drawing ---------------------------------------------------

def choose_model():
    """The shared model picked, or None after saying why it cannot be used."""
    choices = model_choices()
    if not choices:
        st.error("No model found: the shipped models are missing. Train one on the Train page.")
        return None, None
    labels = list(choices)
    seed = labels.index(SHIPPED["seed"]) if SHIPPED["seed"] in labels else 0
    label = st.selectbox("Model", labels, index=seed, key="inside-model",
                         help="The seed notebook's 784-10-10 network is small enough to show every number.")
    try:
        net = load_chosen_model(choices[label])
        dense_layers(net)
    except (ModelFileError, OSError) as error:
        st.error(f"This model cannot be used: {error}")
        return None, None
    except NotDense:
        st.info(f"`{net.describe()}` starts with convolution layers, which this page does not take apart: "
                "it follows the notebook's dense layers only. See what its filters find in your drawing "
                "on the Draw page, under \"Why it decided\". Or pick a dense model above, such as the seed.")
        st.page_link("pages/draw.py", label="Draw page: feature maps", icon="✏️")
        return None, None
    if net.n_params > MAX_PARAMS:
        st.info(f"`{net.describe()}` has {net.n_params:,} parameters: too many to give every visitor their own "
                f"copy to teach (the limit is {MAX_PARAMS:,}). Pick a smaller model.")
        return None, None
    return choices[label], net


def my_copy(path, shared):
    """This session's private copy of the model, made afresh when the model
    (or its file) changes."""
    key = (str(path), path.stat().st_mtime)
    mine = st.session_state.get(COPY)
    if mine is None or mine["key"] != key:
        mine = st.session_state[COPY] = {"key": key, "net": private_copy(shared), "steps": 0,
                                         "start": None, "last": None}
    return mine


def test_digits():
    """1,000 MNIST test digits (100 of each), or None once it is known they
    cannot be had."""
    if st.session_state.get(NO_MNIST):
        return None
    try:
        return per_digit_subset(shared_mnist().test, TEST_PER_DIGIT, seed=0)
    except DataError as error:
        st.session_state[NO_MNIST] = str(error)
        return None


def clear_canvas():
    st.session_state[ROUND] = st.session_state.get(ROUND, 0) + 1


def choose_drawing(net):
    """The 28x28 image to follow (float32 in [0, 1]) and where it came from, or None."""
    has_drawing = st.session_state.get(LAST_DRAWING) is not None
    source = st.radio("Which digit?", SOURCES, index=1 if has_drawing else 0, key="inside-source")
    if source == SOURCES[0]:
        canvas = st_canvas(stroke_width=18, stroke_color="#FFFFFF", background_color="#000000",
                           width=CANVAS_SIZE, height=CANVAS_SIZE, drawing_mode="freedraw", return_image_data=True,
                           key=f"inside-canvas-{st.session_state.get(ROUND, 0)}")
        st.button("Clear", on_click=clear_canvas, key="inside-clear")
        image_data = read_canvas(canvas, CANVAS_SIZE)  # checked before it is decoded (tampered pages)
        if image_data is None:
            return None
        drawing = canvas_to_mnist(image_data, ink="light", blur=input_blur(net))
        return None if drawing.empty else (drawing.pixels, "your drawing")
    if source == SOURCES[1]:
        if not has_drawing:
            st.info("No drawing yet: draw a digit on the Draw page first, or draw one here.")
            st.page_link("pages/draw.py", label="Draw page", icon="✏️")
            return None
        return st.session_state[LAST_DRAWING], "your drawing from the Draw page"
    if st.button("Another digit", key="inside-another") or RANDOM not in st.session_state:
        st.session_state[RANDOM] = int(np.random.default_rng().integers(10_000))
    try:
        test = shared_mnist().test
    except DataError as error:
        st.warning(f"MNIST could not be obtained, so there are no test digits to show: {error}")
        return None
    index = st.session_state[RANDOM] % len(test)
    return test.images[index].astype(np.float32) / 255, f"MNIST test digit #{index} (labelled {test.labels[index]})"


# -- teaching: one gradient step -------------------------------------------------

def take_step(mine, pixels, label, alpha):
    """One gradient step on the private copy, remembering what it did to
    this drawing and to 1,000 test digits."""
    net, test = mine["net"], test_digits()

    def accuracy():
        return net.accuracy(test.images, test.labels) if test is not None else None

    before = accuracy()
    if mine["steps"] == 0:
        mine["start"] = before
    step = learn(net, pixels, label, alpha)
    mine["steps"] += 1
    mine["last"] = {"pixels": pixels, "label": label, "alpha": alpha, "before": step.probabilities,
                    "after": trace(net, pixels).probabilities, "accuracy": (before, accuracy())}


def show_step_result(mine, pixels):
    """What the last step did, while the same drawing is on show."""
    last = mine["last"]
    if last is None or pixels is None or not np.array_equal(last["pixels"], pixels):
        return
    label, (before, after) = last["label"], last["accuracy"]
    text = (f"Step {mine['steps']} (α = {last['alpha']:g}): the probability of **{label}** for this drawing went "
            f"from {last['before'][label]:.1%} to **{last['after'][label]:.1%}**.")
    if after is not None:
        text += f" On 1,000 MNIST test digits the accuracy went from {before:.1%} to **{after:.1%}**"
        text += f" ({mine['start']:.1%} before your first step)." if mine["start"] is not None else "."
    st.success(text)
    if after is None:
        st.warning("MNIST could not be obtained, so what the step did to other digits cannot be measured: "
                   f"{st.session_state.get(NO_MNIST)}")
    chart = pd.DataFrame({"before": last["before"], "after": last["after"]}, index=[str(d) for d in range(10)])
    st.bar_chart(chart, height=180, x_label="digit", y_label="probability", stack=False,
                 color=["#9ecae1", "#08519c"])  # before light, after dark


def teaching_controls(mine, pixels):
    """The digit to teach, alpha, Step and Reset; returns the digit (or None)."""
    st.markdown("**Teach it your drawing.** Which digit is it?")
    label = st.pills("Digit to teach", list(range(10)), key="inside-target", label_visibility="collapsed")
    alpha = st.slider("Learning rate α", 0.001, 1.0, 0.01, 0.001, format="%.3f", key="inside-alpha",
                      help="How big a step W − α dW takes. The notebook's 0.1 is for the average gradient of "
                           "41,000 images; the gradient of one drawing is far larger, so much smaller steps do.")
    left, right = st.columns(2)
    # Clicks are in the session state before their buttons are drawn, and are
    # acted on below: the Step button already says what comes next.
    again = (mine["steps"] or st.session_state.get("inside-step")) and not st.session_state.get("inside-reset")
    step = left.button("Step again" if again else "Take one step", key="inside-step",
                       disabled=label is None or pixels is None, type="primary")
    if right.button("Reset", key="inside-reset"):  # puts back the original weights
        st.session_state.pop(COPY, None)
        return label, "reset"
    if step:
        take_step(mine, pixels, label, alpha)
    return label, None


def show_reading(box, t, where):
    digit, p = t.digit, float(t.probabilities[t.digit])
    with box:
        st.markdown(f"I read {article(digit)} **{digit}**, {p:.0%} sure.")
        st.caption(f"Reading {where}.")
        chart = pd.DataFrame({"probability": t.probabilities}, index=[str(d) for d in range(10)])
        st.bar_chart(chart, height=180, x_label="digit", y_label="probability")


# -- the page ------------------------------------------------------------------------

st.title("Inside the network")
st.caption("The seed notebook's equations, run on your own drawing: see every number the network computes to "
           "read it, then teach it your drawing one gradient step at a time. Your changes stay in your "
           "browser tab: the models themselves never change.")

left, right = st.columns([1, 1.4], gap="large")
with left:
    path, shared = choose_model()
if shared is None:
    st.session_state.pop(COPY, None)  # a copy of the model left behind is of no more use
    st.stop()
mine = my_copy(path, shared)
with left:
    chosen = choose_drawing(mine["net"])
pixels, where = chosen if chosen else (None, None)
with right:
    reading = st.container(key="inside-reading")
    label, action = teaching_controls(mine, pixels)
    if action == "reset":
        mine = my_copy(path, shared)
        st.success("Reset: the model has its original weights again.")
    show_step_result(mine, pixels)

if pixels is None:
    with reading:
        st.info("Draw a digit in the black square (or pick another digit above), "
                "and follow it through the network.")
    st.stop()
t = trace(mine["net"], pixels, label)
show_reading(reading, t, where)
show_forward(t)
show_backward(t)
