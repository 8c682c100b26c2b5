"""The Inside page's two halves: the forward pass and the backward pass of
one drawing, each equation of the seed notebook next to the numbers of a
network.backprop.Trace and two or three plain sentences."""

import numpy as np
import streamlit as st

from network.visualise import diverging, enlarge
from ui.inside_numbers import (
    FUNCTIONS,
    NAMES,
    article,
    cards,
    heat_map,
    sentence,
    shown_units,
    table,
    unit_names,
    which_units,
)

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
