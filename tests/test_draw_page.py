"""The Draw page, through Streamlit's AppTest (drawings injected as canvas state)."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from network.store import open_store
from tests.apptest import image_captions
from tests.drawn import canvas_state, draw_digit

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")  # the router opens the Draw page


def run_app():
    at = AppTest.from_file(APP, default_timeout=60)
    at.run()
    assert not at.exception, at.exception
    return at


def draw(at, digit, **kwargs):
    at.session_state["canvas-0"] = canvas_state(draw_digit(digit, **kwargs))
    at.run()
    assert not at.exception, at.exception
    return at


def prediction_text(at):
    return " ".join(m.value for m in at.markdown if "I read a" in m.value)


def test_first_load_shows_a_prompt_and_no_error(data_dir):
    at = run_app()
    assert at.title[0].value == "Draw a digit"
    assert any("Draw a digit in the black square" in i.value for i in at.info)
    assert not at.error
    assert at.selectbox(key="model-picker").value.startswith("Default")


@pytest.mark.parametrize("digit", [1, 7])
def test_a_drawn_digit_is_read(data_dir, digit):
    at = draw(run_app(), digit)
    assert f"I read a **{digit}**" in prediction_text(at)
    assert at.get("vega_lite_chart")  # the probability bars
    captions = image_captions(at)
    assert "centred (28x28)" in captions and any(c.startswith("Saliency") for c in captions)
    assert at.session_state["last_drawing"].shape == (28, 28)


def test_an_empty_canvas_prompts_instead_of_guessing(data_dir):
    at = run_app()
    at.session_state["canvas-0"] = canvas_state(np.zeros((280, 280, 4), np.uint8))
    at.run()
    assert not at.exception
    assert any("Draw a digit" in i.value for i in at.info)
    assert not prediction_text(at)


def scribble():
    """Thick zig-zags over most of the canvas."""
    from PIL import Image, ImageDraw
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    points = [(x, 20 + 240 * (i % 2)) for i, x in enumerate(range(10, 280, 12))]
    ImageDraw.Draw(image).line(points, fill=(255, 255, 255, 255), width=30)
    return np.asarray(image)


def test_a_scribble_is_flagged(data_dir):
    at = run_app()
    at.session_state["canvas-0"] = canvas_state(scribble())
    at.run()
    assert not at.exception
    # Far from every digit: the page says it is none, with its best guess (ui/novelty.py).
    assert any("does not look like a digit" in m.value for m in at.markdown)
    assert not prediction_text(at)


def test_clear_gives_a_fresh_canvas(data_dir):
    at = draw(run_app(), 1)
    at.button(key="clear-canvas").click().run()
    assert at.session_state["canvas_round"] == 1
    assert any("Draw a digit in the black square" in i.value for i in at.info)


def save_correction(digit, label):
    """Draw `digit`, then say "Was I wrong?" with `label`."""
    at = draw(run_app(), digit)
    at.session_state["correct-digit"] = label
    at.run()
    at.button(key="save-correction").click().run()
    assert not at.exception
    return at


def test_correcting_a_prediction_stores_the_drawing(data_dir):
    at = save_correction(7, 1)
    assert any("Drawings saved: 1" in c.value for c in at.caption)
    assert any("Saved as a 1" in s.value for s in at.success)
    store = open_store(data_dir)
    (saved,) = store.drawings()
    assert saved.label == 1 and saved.label_source == "correction" and saved.predicted == 7
    assert np.abs(saved.pixels - at.session_state["last_drawing"]).max() < 1 / 255
    assert store.canvas_png(saved.id).startswith(b"\x89PNG")


def test_a_correction_equal_to_the_reading_is_a_confirmation_not_a_mistake(data_dir):
    at = save_correction(7, 7)
    assert any("That is what I read" in i.value for i in at.info)
    (saved,) = open_store(data_dir).drawings()
    assert saved.label == 7 and saved.label_source == "confirmed"


def test_an_eight_is_an_eight(data_dir):
    at = draw(run_app(), 8)
    assert "I read an **8**" in prediction_text(at)


def test_the_drawing_survives_a_visit_to_another_page(data_dir):
    at = draw(run_app(), 7)
    at.switch_page("pages/train.py").run()
    assert not at.exception
    assert "canvas-0" not in at.session_state  # Streamlit forgets a widget the page did not draw
    at.switch_page("pages/draw.py").run()
    assert not at.exception
    assert "I read a **7**" in prediction_text(at)


def test_a_canvas_of_another_size_is_read_in_the_same_coordinates(data_dir):
    from PIL import Image
    small = np.asarray(Image.fromarray(draw_digit(7, width=18)).resize((180, 180), Image.Resampling.BILINEAR))
    at = run_app()
    # What the browser reports on a narrow screen (ui/viewport.py): a 180 px canvas.
    at.session_state["draw-viewport"] = {"size": {"column": 180, "top": 100, "width": 1000, "height": 2000}}
    at.session_state["canvas-0"] = canvas_state(small)
    at.run()
    assert "I read a **7**" in prediction_text(at)
    assert at.session_state["draw_kept_canvas"]["image"].shape == (280, 280, 4)


def test_presenter_mode_from_the_address_makes_the_answer_big_and_folds_the_details(data_dir):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params["present"] = "1"
    at.run()
    assert at.toggle(key="presenter-mode").value
    draw(at, 7)
    assert any("11rem" in m.value for m in at.markdown)
    assert [e.label for e in at.expander] == ["Was I wrong?", "What the network sees, and why it decided"]


def test_the_seed_model_can_be_picked(data_dir):
    at = run_app()
    seed = next(o for o in at.selectbox(key="model-picker").options if o.startswith("Seed"))
    at.selectbox(key="model-picker").select(seed).run()
    assert any("784-10-10" in m.value for m in at.markdown)
    draw(at, 1)
    assert prediction_text(at)


def test_a_corrupt_saved_model_gives_a_message_not_a_traceback(data_dir):
    (data_dir / "models").mkdir()
    (data_dir / "models" / "broken.npz").write_bytes(b"PK\x03\x04 this is not really a zip")
    at = run_app()
    at.selectbox(key="model-picker").select("broken").run()
    assert not at.exception
    assert any("cannot be used" in e.value for e in at.error)
