"""Inside page: the seed notebook's equations, run on the learner's own
drawing, forward and backward, one gradient step at a time.

The numbers all come from network/backprop.py, which walks the network's
own layers; this page only arranges them next to their equations.  Steps
change a private copy of the model kept in the session: the model files and
the model other sessions share never change.
"""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from streamlit_drawable_canvas import st_canvas

from network.backprop import NotDense, dense_layers, learn, private_copy, trace
from network.digits import per_digit_subset
from network.errors import DataError
from network.modelfile import SHIPPED, ModelFileError, input_blur
from network.preprocess import canvas_to_mnist, to_uint8
from network.visualise import diverging, enlarge, tile
from ui.mnist import shared_mnist
from ui.models import load_chosen_model, model_choices
from ui.routing import routed
from ui.session import LAST_DRAWING

routed()  # before anything is drawn: see ui/routing.py

CANVAS_SIZE = 280
MAX_UNITS = 10          # hidden units shown per layer; a wider layer shows its largest
MAX_PARAMS = 2_000_000  # every session gets its own copy (weights and gradients): 16 MB at most
TEST_PER_DIGIT = 100    # 1,000 MNIST test digits measure what a step did to the rest
CARD = 112              # width of a unit's pictures, in screen pixels: two fit side by side on a phone

# Session state.
COPY = "inside_copy"            # {"key": (path, mtime), "net": private Network, "steps", "start", "last"}
ROUND = "inside_canvas_round"   # canvas number: a new key is a blank canvas
RANDOM = "inside_random_index"  # the MNIST test digit shown
NO_MNIST = "inside_no_mnist"    # why MNIST could not be had, so it is not tried on every click

SOURCES = ("Draw it here", "My drawing from the Draw page", "A random MNIST test digit")
FUNCTIONS = {"relu": r"\mathrm{ReLU}", "leaky_relu": r"\mathrm{LeakyReLU}", "sigmoid": r"\sigma", "tanh": r"\tanh"}
NAMES = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}


def article(digit):
    return "an" if digit == 8 else "a"


def sentence(words):
    """'2, 5 and 8' from [2, 5, 8]."""
    words = [str(w) for w in words]
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


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
        if canvas.image_data is None:
            return None
        drawing = canvas_to_mnist(canvas.image_data, ink="light", blur=input_blur(net))
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


# -- pictures and tables -----------------------------------------------------------

def shown_units(values):
    """Indices of the units to show: all of a small layer, else the
    MAX_UNITS largest (by size, sign aside), largest first."""
    values = np.abs(np.asarray(values).ravel())
    return np.arange(values.size) if values.size <= MAX_UNITS else np.argsort(-values, kind="stable")[:MAX_UNITS]


def which_units(units, n, what="active"):
    return "" if len(units) == n else f" Showing the {len(units)} most {what} of its {n} units."


def cards(pictures):
    """One small picture per unit, side by side, wrapping onto new rows on a
    narrow screen; a unit with several pictures has them one above the other."""
    with st.container(horizontal=True, gap="small"):
        for images, caption in pictures:
            # RGB, each in a thin grey frame: a white (zero) edge stays visible.
            images = [np.pad(image if image.ndim == 3 else np.repeat(to_uint8(image)[..., None], 3, axis=2),
                             ((1, 1), (1, 1), (0, 0)), constant_values=200) for image in images]
            st.image(enlarge(tile(np.stack(images), columns=1, gap=1), CARD), caption=caption,
                     output_format="PNG", width=CARD)


def heat_map(matrix, rows, columns, row_name, column_name, title):
    """A weight matrix (or its gradient) as red/blue cells; hovering gives each number."""
    limit = float(np.abs(matrix[np.ix_(rows, columns)]).max()) or 1.0
    frame = pd.DataFrame([{row_name: int(r), column_name: int(c), title: float(matrix[r, c])}
                          for r in rows for c in columns])
    chart = alt.Chart(frame).mark_rect().encode(
        x=alt.X(f"{column_name}:O", sort=[int(c) for c in columns]),
        y=alt.Y(f"{row_name}:O", sort=[int(r) for r in rows]),
        color=alt.Color(f"{title}:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-limit, limit])),
        tooltip=[row_name, column_name, alt.Tooltip(f"{title}:Q", format="+.4f")],
    ).properties(height=min(360, 24 * len(rows) + 40))
    st.altair_chart(chart, width="stretch")


def table(columns, index):
    """Numbers per unit, one row per unit, four significant digits."""
    frame = pd.DataFrame(columns, index=index)
    st.dataframe(frame, width="stretch",
                 column_config={name: st.column_config.NumberColumn(format="%.4g") for name in frame.columns})


def unit_names(units, output):
    return [f"digit {u}" if output else f"unit {u}" for u in units]


# -- the forward pass ----------------------------------------------------------------

def show_input(t):
    X = t["X"][:, 0]
    st.latex(r"X")
    st.markdown("Your drawing, as the network gets it: 28 by 28 pixels, each a number from 0 (black) to 1 "
                "(white ink). The maths reads them as one column of 784 numbers, row after row.")
    cards([([X.reshape(28, 28)], "X as an image")])
    strip = np.repeat(X[None, :], 12, axis=0)
    st.image(enlarge(strip, 784), caption="The same 784 numbers in one line, the first row of pixels first "
             "(the maths stands this line up as a column)", output_format="PNG", width="stretch")
    inked = np.flatnonzero(X)
    with st.expander(f"Every number of X ({inked.size} of the 784 are not 0)"):
        table({"X": X}, [f"row {i} (pixel {i // 28}, {i % 28})" for i in range(784)])


def show_first_layer(t):
    X, W, b, Z = t["X"][:, 0], t["W1"], t["b1"][:, 0], t["Z1"][:, 0]
    units = shown_units(t["A1"])
    st.latex(r"Z_1 = W_1 X + b_1")
    st.markdown("Each hidden unit has its own 784 weights, one per pixel: red weights like ink there, blue ones "
                "dislike it. The unit multiplies every pixel by its weight, adds up the 784 products and then "
                f"its bias. The result is one number per unit: how much your drawing looks like what it wants."
                f"{which_units(units, Z.size)}")
    products = W[units] * X
    w_limit, p_limit = float(np.abs(W[units]).max()) or 1.0, float(np.abs(products).max()) or 1.0
    cards([([diverging(W[u].reshape(28, 28), w_limit), diverging(p.reshape(28, 28), p_limit)],
            f"unit {u}: sum {p.sum():+.2f}, bias {b[u]:+.2f}, Z = {Z[u]:+.2f}")
           for u, p in zip(units, products)])
    st.caption("Top: the unit's 784 weights (its row of W1). Below: each weight times its pixel. Red pixels "
               "pushed the unit's Z up, blue ones down; pixels without ink (0) add nothing, whatever their weight. "
               "Under each: the sum of the products, plus the bias, makes Z.")


def show_activation(t, i):
    Z, A = t[f"Z{i}"][:, 0], t[f"A{i}"][:, 0]
    name = t.activations[i - 1]
    units = shown_units(A)
    st.latex(rf"A_{i} = {FUNCTIONS.get(name, name)}(Z_{i})")
    if name == "relu":
        off = [int(u) for u in units if A[u] == 0]
        st.markdown("ReLU keeps a positive number and turns a negative one into 0. A unit at 0 is switched off: "
                    "it passes nothing on to the next layer. "
                    + (f"For your drawing, unit{'s' if len(off) > 1 else ''} {sentence(off)} "
                       f"{'are' if len(off) > 1 else 'is'} switched off." if off else "No unit shown is off."))
    else:
        st.markdown(f"The activation function ({NAMES.get(name, name)}) bends each unit's Z into its output A, "
                    "the number passed on to the next layer.")
    previous = t["X"] if i == 1 else t[f"A{i - 1}"]
    table({f"W{i} · {'X' if i == 1 else f'A{i - 1}'}": (t[f"W{i}"] @ previous)[units, 0],
           f"b{i}": t[f"b{i}"][units, 0], f"Z{i}": Z[units], f"A{i}": A[units]}, unit_names(units, False))


def show_upper_layer(t, i):
    """Z_l = W_l A_(l-1) + b_l for a layer fed by hidden units."""
    output = i == t.n_layers
    below = t[f"A{i - 1}"][:, 0]
    rows, columns = (np.arange(10) if output else shown_units(t[f"A{i}"])), shown_units(below)
    st.latex(rf"Z_{i} = W_{i} A_{i - 1} + b_{i}")
    who = "Each of the 10 output units, one per digit," if output else "Each unit of this layer"
    st.markdown(f"{who} does the same with the hidden units' outputs A{i - 1}: it multiplies each by a weight "
                f"(its row of W{i}), adds them up and adds its bias. "
                + ("The results are the scores: the higher, the more the network believes in that digit."
                   if output else "") + which_units(columns, below.size))
    heat_map(t[f"W{i}"], rows, columns, "digit" if output else f"unit (layer {i})", f"unit (layer {i - 1})",
             f"W{i}")
    st.caption(f"W{i}: one row per {'digit' if output else 'unit'}, one column per unit below it. "
               "Red weights pass a unit's output on as a vote for, blue as a vote against. Hover for the numbers.")
    if not output:
        return
    Z, A = t[f"Z{i}"][:, 0], t[f"A{i}"][:, 0]
    st.latex(rf"A_{i} = \mathrm{{softmax}}(Z_{i}) = \frac{{e^{{Z_{i}}}}}{{\sum e^{{Z_{i}}}}}")
    # Shown as e^Z unless that would overflow; the code always subtracts the
    # largest score first (activations.softmax), which changes no probability.
    shift = 0.0 if Z.max() < 80 else float(Z.max())
    exponentials = np.exp(Z.astype(np.float64) - shift)
    power = f"e^Z{i}" if not shift else f"e^(Z{i} − {shift:.2f})"
    st.markdown("Softmax turns the scores into probabilities. It raises e to each score, which makes every "
                "number positive and bigger scores stand out more, then divides each by their sum so the ten "
                "add up to 1.")
    table({f"W{i} · A{i - 1}": (t[f"W{i}"] @ t[f"A{i - 1}"])[:, 0], f"b{i}": t[f"b{i}"][:, 0], f"Z{i}": Z,
           power: exponentials, f"A{i} = {power} / sum": A}, unit_names(range(10), True))
    st.caption(f"The sum of the ten {power} is {exponentials.sum():,.6g}. (The code first subtracts the largest "
               "score from every score: that changes no probability and keeps e^Z from growing too large.)")


def show_forward(t):
    st.header("1. Forward: how it reads")
    show_input(t)
    for i in range(1, t.n_layers + 1):
        if i == 1:
            show_first_layer(t)
        else:
            show_upper_layer(t, i)
        if i < t.n_layers:
            show_activation(t, i)


# -- the backward pass ----------------------------------------------------------------

def show_output_error(t):
    L, y = t.n_layers, t.label
    st.latex(rf"dZ_{L} = A_{L} - \mathrm{{one\_hot}}(Y)")
    st.markdown(f"How wrong was each output? Take away what it should have said: 1 for {y}, the digit you are "
                "teaching, and 0 for every other. Positive means that probability was too high, negative too low.")
    table({f"A{L}": t[f"A{L}"][:, 0], "one_hot(Y)": np.eye(10)[y], f"dZ{L}": t[f"dZ{L}"][:, 0]},
          unit_names(range(10), True))


def show_layer_gradients(t, i):
    output = i == t.n_layers
    dZ = t[f"dZ{i}"][:, 0]
    if i == 1:
        units = shown_units(dZ)
        st.latex(r"dW_1 = dZ_1 X^T \qquad db_1 = dZ_1")
        st.markdown("For each hidden unit, the change to its 784 weights is your drawing itself, times the "
                    "unit's error dZ1: only pixels with ink change. Blue means that unit's weights there will go "
                    f"up, red that they will go down.{which_units(units, dZ.size, 'changed')}")
        dW = t["dW1"]
        limit = float(np.abs(dW[units]).max()) or 1.0
        cards([([diverging(dW[u].reshape(28, 28), limit)], f"unit {u}: dZ1 = {dZ[u]:+.4f}") for u in units])
        return
    rows = np.arange(10) if output else shown_units(dZ)
    columns = shown_units(t[f"A{i - 1}"])
    st.latex(rf"dW_{i} = dZ_{i} A_{{{i - 1}}}^T \qquad db_{i} = dZ_{i}")
    st.markdown(f"A weight changes in proportion to the error of the unit it feeds and the output of the unit it "
                f"comes from: a switched-off unit below gets no blame. The bias's gradient db{i} is just the "
                "error dZ itself.")
    heat_map(t[f"dW{i}"], rows, columns, "digit" if output else f"unit (layer {i})", f"unit (layer {i - 1})",
             f"dW{i}")


def show_hidden_error(t, i):
    """dZ_l = W_(l+1)^T dZ_(l+1) * f'(Z_l): the error flows back down."""
    name = t.activations[i - 1]
    dZ = t[f"dZ{i}"][:, 0]
    units = shown_units(dZ)
    st.latex(rf"dZ_{i} = W_{i + 1}^T dZ_{i + 1} \ast {FUNCTIONS.get(name, name)}'(Z_{i})")
    st.markdown("The error flows back through the same weights: each unit collects the errors of the units it "
                "feeds, weighted by how strongly it feeds them. "
                + ("Units that were switched off (ReLU' = 0) pass nothing back." if name == "relu" else
                   f"The slope of {NAMES.get(name, name)} at Z{i} scales it.")
                + which_units(units, dZ.size, "changed"))
    table({f"W{i + 1}ᵀ dZ{i + 1}": t[f"dA{i}"][units, 0],
           f"{NAMES.get(name, name)}'(Z{i})": t[f"f'(Z{i})"][units, 0], f"dZ{i}": dZ[units]},
          unit_names(units, False))


def show_update(t):
    L = t.n_layers
    st.latex(r"W_l \leftarrow W_l - \alpha\, dW_l \qquad b_l \leftarrow b_l - \alpha\, db_l"
             + rf"\qquad l = 1 \ldots {L}")
    st.markdown("Every weight moves a little against its gradient, and α (alpha, the learning rate) sets how far. "
                "A big α learns your drawing in one step, but may forget what it knew about other digits: "
                "the accuracy on 1,000 test digits after each step shows it.")


def show_backward(t):
    st.header("2. Backward: how it learns")
    if t.label is None:
        st.info("Pick the digit you meant under \"Teach it your drawing\" above, and the backward pass appears "
                "here: how every weight should change to make that digit more likely.")
        return
    st.markdown(f"You say this is {article(t.label)} **{t.label}**: here is the gradient that the next step will "
                f"follow (loss −log A{t.n_layers}[{t.label}] = {t.loss:.3f}).")
    show_output_error(t)
    for i in range(t.n_layers, 0, -1):
        show_layer_gradients(t, i)
        if i > 1:
            show_hidden_error(t, i - 1)
    show_update(t)


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
