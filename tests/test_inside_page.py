"""The Inside page through Streamlit's AppTest: the notebook's equations on a
drawing, one gradient step, Reset, other models and other digits."""

import re
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from network.backprop import trace
from network.errors import DataError
from network.model import Network, architecture
from network.modelfile import SHIPPED, input_blur, load_model, model_path, save_model
from network.preprocess import canvas_to_mnist
from tests.apptest import image_captions
from tests.drawn import canvas_state, draw_digit
from ui import mnist
from ui.session import LAST_DRAWING

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
SEED = Path(__file__).resolve().parent.parent / "models" / "seed.npz"


def equations(L):
    """The notebook's equations for a network of L dense layers, as the page writes them."""
    forward = ["X", "Z_1 = W_1 X + b_1"]
    for i in range(1, L):
        forward += [rf"A_{i} = \mathrm{{ReLU}}(Z_{i})", rf"Z_{i + 1} = W_{i + 1} A_{i} + b_{i + 1}"]
    forward.append(rf"A_{L} = \mathrm{{softmax}}(Z_{L})")
    backward = [rf"dZ_{L} = A_{L} - \mathrm{{one\_hot}}(Y)"]
    for i in range(L, 1, -1):
        backward += [rf"dW_{i} = dZ_{i} A_{{{i - 1}}}^T \qquad db_{i} = dZ_{i}",
                     rf"dZ_{i - 1} = W_{i}^T dZ_{i} \ast \mathrm{{ReLU}}'(Z_{i - 1})"]
    backward += [r"dW_1 = dZ_1 X^T \qquad db_1 = dZ_1", r"W_l \leftarrow W_l - \alpha\, dW_l"]
    return forward, backward


def shown_equations(at):
    return [element.value.strip("$\n") for element in at.latex]


def shows_all(at, expected):
    found = shown_equations(at)
    return all(any(body.startswith(equation) for body in found) for equation in expected)


def run(at):
    at.run()
    assert not at.exception, at.exception
    return at


def open_page(model=None, session=None):
    """The Inside page, opened through the app's router (its links to the
    Draw page need the router's page list)."""
    at = run(AppTest.from_file(APP, default_timeout=60))
    for key, value in (session or {}).items():  # what other pages left in the session
        at.session_state[key] = value
    at.switch_page("pages/inside.py")
    run(at)
    if model is not None:
        at.selectbox(key="inside-model").select(model)
        run(at)
    return at


def draw(at, digit, canvas=0):
    at.session_state[f"inside-canvas-{canvas}"] = canvas_state(draw_digit(digit))
    return run(at)


def pixels_of(digit, net):
    """What the page makes of a drawn digit (the Draw page's preprocessing)."""
    return canvas_to_mnist(draw_digit(digit), ink="light", blur=input_blur(net)).pixels


def reading(at):
    """The inside-reading container's first line, e.g. 'I read a 7, 99% sure.'"""
    return next(m.value for m in at.markdown if m.value.startswith("I read")).replace("**", "")


def read_digit(at):
    return int(re.match(r"I read an? (\d)", reading(at)).group(1))


def teach(at, digit, alpha=None):
    at.pills(key="inside-target").set_value(digit)
    if alpha is not None:
        at.slider(key="inside-alpha").set_value(alpha)
    run(at)
    at.button(key="inside-step").click()
    return run(at)


def test_first_load_prompts_for_a_drawing_with_the_seed_model(data_dir):
    at = open_page()
    assert at.title[0].value == "Inside the network"
    assert at.selectbox(key="inside-model").value == SHIPPED["seed"]
    assert any("Draw a digit in the black square" in i.value for i in at.info)
    assert at.button(key="inside-step").disabled
    assert not shown_equations(at)


def test_the_seed_model_shows_every_equation_forward_and_backward(data_dir):
    at = draw(open_page(), 7)
    assert re.fullmatch(r"I read an? \d, \d+% sure\.", reading(at))
    forward, backward = equations(2)
    assert shows_all(at, forward) and not shows_all(at, backward[:1])
    assert any("Pick the digit you meant" in i.value for i in at.info)
    at.pills(key="inside-target").set_value(3)
    run(at)
    assert shows_all(at, forward + backward)
    captions = image_captions(at)
    assert sum(c.startswith("unit ") and "Z = " in c for c in captions) == 10  # every hidden unit's sum
    assert sum(c.startswith("unit ") and "dZ1 = " in c for c in captions) == 10  # and its part of dW1
    assert len(at.get("vega_lite_chart")) >= 3  # the probabilities, W2 and dW2
    assert at.dataframe  # the numbers behind every picture


def test_a_784_64_32_10_network_shows_every_equation_largest_units_first(data_dir):
    net = Network(architecture(hidden=(64, 32), init="he"), seed=4)
    save_model(net, model_path("deep"), {"description": "test"})
    at = draw(open_page("deep"), 1)
    at.pills(key="inside-target").set_value(4)
    run(at)
    forward, backward = equations(3)
    assert shows_all(at, forward + backward)
    texts = " ".join(m.value for m in at.markdown)
    assert "Showing the 10 most active of its 64 units." in texts
    assert "Showing the 10 most active of its 32 units." in texts
    shown = [int(re.match(r"unit (\d+)", c).group(1)) for c in image_captions(at) if "Z = " in c]
    A1 = trace(load_model(model_path("deep")), pixels_of(1, net))["A1"][:, 0]
    assert len(shown) == 10 and list(shown) == list(np.argsort(-A1, kind="stable")[:10])


def test_a_step_moves_the_probabilities_towards_the_taught_digit_and_reset_restores_them(data_dir):
    at = draw(open_page(), 7)
    first = reading(at)
    target = (read_digit(at) + 1) % 10
    shared = load_model(SEED)
    before = trace(shared, pixels_of(7, shared)).probabilities
    teach(at, target)  # the page's alpha, 0.01
    mine = at.session_state["inside_copy"]
    after = trace(mine["net"], pixels_of(7, shared)).probabilities
    assert mine["steps"] == 1 and at.button(key="inside-step").label == "Step again"
    assert after[target] > before[target]
    assert after[read_digit(at)] == after.max()
    np.testing.assert_allclose(mine["last"]["before"], before, rtol=1e-5)
    assert any(f"the probability of {target} for this drawing went" in s.value.replace("**", "") for s in at.success)
    # The shared model and the file never change.
    np.testing.assert_array_equal(load_model(SEED).params, shared.params)
    at.button(key="inside-step").click()
    run(at)
    assert at.session_state["inside_copy"]["steps"] == 2
    assert trace(at.session_state["inside_copy"]["net"], pixels_of(7, shared)).probabilities[target] > after[target]

    at.button(key="inside-reset").click()
    run(at)
    assert at.session_state["inside_copy"]["steps"] == 0 and at.button(key="inside-step").label == "Take one step"
    np.testing.assert_array_equal(at.session_state["inside_copy"]["net"].params, shared.params)
    assert reading(at) == first
    assert any("Reset" in s.value for s in at.success)


def test_a_step_reports_the_accuracy_on_test_digits(data_dir, mnist_cache):
    if mnist_cache is None:
        pytest.skip("MNIST cannot be obtained here")
    at = teach(draw(open_page(), 1), 4, alpha=1.0)
    text = " ".join(s.value for s in at.success).replace("**", "")
    match = re.search(r"accuracy went from ([\d.]+)% to ([\d.]+)%", text)
    assert match and float(match.group(2)) < float(match.group(1))  # a big step forgets other digits


def test_without_mnist_the_step_still_works_and_says_why(data_dir, monkeypatch):
    def unobtainable(*args, **kwargs):
        raise DataError("Could not obtain MNIST. Tried: nothing")
    monkeypatch.setattr(mnist, "fetch_mnist", unobtainable)
    at = teach(draw(open_page(), 1), 4)
    assert at.session_state["inside_copy"]["steps"] == 1
    assert any("MNIST could not be obtained" in w.value and "Tried: nothing" in w.value for w in at.warning)


def test_a_conv_model_is_sent_to_the_draw_page(data_dir):
    at = open_page(SHIPPED["default"])
    assert any("convolution" in i.value and "Draw page" in i.value for i in at.info)
    assert not shown_equations(at)
    assert "inside_copy" not in at.session_state
    assert at.get("page_link")


def test_the_draw_page_drawing_is_used(data_dir):
    shared = load_model(SEED)
    at = open_page(session={LAST_DRAWING: pixels_of(0, shared)})
    assert at.radio(key="inside-source").value == "My drawing from the Draw page"
    digit = trace(shared, pixels_of(0, shared)).digit
    assert read_digit(at) == digit
    assert shows_all(at, equations(2)[0])


def test_a_random_mnist_digit(data_dir, mnist_cache):
    if mnist_cache is None:
        pytest.skip("MNIST cannot be obtained here")
    at = open_page()
    at.radio(key="inside-source").set_value("A random MNIST test digit")
    run(at)
    assert re.search(r"MNIST test digit #\d+ \(labelled \d\)", " ".join(c.value for c in at.caption))
    assert shows_all(at, equations(2)[0])
    at.button(key="inside-another").click()
    run(at)
    assert re.search(r"MNIST test digit #\d+ \(labelled \d\)", " ".join(c.value for c in at.caption))


def test_clear_gives_a_new_canvas(data_dir):
    at = draw(open_page(), 7)
    at.button(key="inside-clear").click()
    run(at)
    assert any("Draw a digit in the black square" in i.value for i in at.info)
    draw(at, 1, canvas=1)
    assert reading(at).startswith("I read")


def test_other_activations_and_dropout_are_shown_too(data_dir):
    net = Network(architecture(hidden=(16,), activation="tanh", dropout=0.3, init="xavier"), seed=2)
    save_model(net, model_path("tanh"), {"description": "test"})
    at = teach(draw(open_page("tanh"), 7), 2)
    assert shows_all(at, [r"A_1 = \tanh(Z_1)", r"dZ_1 = W_2^T dZ_2 \ast \tanh'(Z_1)"])
    assert at.session_state["inside_copy"]["steps"] == 1
