"""The Draw page says so when a drawing is not a digit (AppTest)."""

import numpy as np
import pytest

from scripts.not_digits import DOODLES, LETTERS, jittered
from scripts.render_strokes import render_strokes
from tests.drawn import canvas_state
from tests.test_draw_page import draw, prediction_text, run_app

NOT_A_DIGIT = "This does not look like a digit to me"


def drawn_shape(strokes):
    """A canvas with the shape drawn large in the middle, white on black."""
    return render_strokes(jittered(strokes, np.random.default_rng(0), wobble=0.01, tilt=0),
                          line_width=18, height=200, offset=(40, 40), background="black")


def page_text(at):
    return " ".join(m.value for m in at.markdown)


@pytest.mark.parametrize("name, strokes", [("smiley", DOODLES["smiley"](None)), ("A", LETTERS["A"]),
                                           ("hash", DOODLES["hash"](None))])
def test_a_non_digit_gets_an_honest_answer(data_dir, name, strokes):
    at = run_app()
    at.session_state["canvas-0"] = canvas_state(drawn_shape(strokes))
    at.run()
    assert not at.exception, at.exception
    text = page_text(at)
    assert NOT_A_DIGIT in text, name
    assert "my best guess is" in text
    assert not prediction_text(at), "no confident 'I read a ...' for a non-digit"
    assert any("only ever seen digits" in i.value for i in at.info)
    assert at.get("vega_lite_chart")  # the probabilities are still shown
    assert not at.error


@pytest.mark.parametrize("digit", [0, 4, 8])
def test_a_digit_is_still_read_as_before(data_dir, digit):
    at = draw(run_app(), digit)
    assert f"I read {'an' if digit == 8 else 'a'} **{digit}**" in prediction_text(at)
    assert NOT_A_DIGIT not in page_text(at)


def test_without_an_atlas_every_drawing_is_read_as_before(data_dir, monkeypatch):
    import ui.novelty
    monkeypatch.setattr(ui.novelty, "digit_atlas", lambda: None)  # as if models/digit-atlas.npz were missing
    at = run_app()
    at.session_state["canvas-0"] = canvas_state(drawn_shape(DOODLES["smiley"](None)))
    at.run()
    assert not at.exception, at.exception
    assert prediction_text(at) and NOT_A_DIGIT not in page_text(at)
