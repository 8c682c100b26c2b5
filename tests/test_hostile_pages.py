"""What a hostile visitor's canvas and uploads do to the pages (issue 14, D5
D6 D7): a friendly message, never a traceback, nothing stored."""

import base64
import json

import numpy as np
import pytest

from network.modelfile import list_models, load_model
from tests.drawn import canvas_state, draw_digit
from tests.test_budgets import metadata, model_bytes
from tests.test_draw_page import prediction_text, run_app
from tests.test_hostile_inputs import png_claiming
from tests.test_train_page import messages, open_page

EMPTY_CANVAS_PROMPT = "Draw a digit in the black square"


def tampered(png):
    return {"drawing": {"raw": {"objects": []}, "data": "data:image/png;base64," + base64.b64encode(png).decode()}}


@pytest.mark.parametrize("payload", [
    tampered(png_claiming(12_000, 12_000)),
    tampered(png_claiming(20_000, 20_000)),
    tampered(b"not an image at all"),
    {"drawing": {"raw": {"objects": []}, "data": "data:image/png,no-base64-here"}},
    canvas_state(draw_digit(1, size=100)),
])
def test_d5_a_tampered_canvas_gets_the_empty_canvas_message(data_dir, payload):
    at = run_app()
    at.session_state["canvas-0"] = payload
    at.run()
    assert not at.exception, at.exception
    assert any(EMPTY_CANVAS_PROMPT in i.value for i in at.info)
    assert not prediction_text(at) and not at.error


@pytest.mark.parametrize("payload", [tampered(png_claiming(20_000, 20_000)), canvas_state(draw_digit(1, size=100))])
def test_d5_the_inside_page_reads_a_tampered_canvas_as_an_empty_one(data_dir, payload):
    from tests.test_inside_page import open_page as open_inside
    at = open_inside()
    at.session_state["inside-canvas-0"] = payload
    at.run()
    assert not at.exception, at.exception
    assert any(EMPTY_CANVAS_PROMPT in i.value for i in at.info) and not at.error


def hostile_model(**fields):
    arch = {"input": [1, 28, 28], "init": "he", "layers": [{"type": "dense", "units": 10}]}
    weights = {"0.W": np.zeros((10, 784), np.float32), "0.b": np.zeros((10, 1), np.float32)}
    return model_bytes(metadata(arch, **fields), weights)


@pytest.mark.parametrize("fields", [{"metrics": {"test_accuracy": "99%"}}, {"metrics": "oops"},
                                    {"config": [1, 2, 3]}])
def test_d7_an_upload_with_bad_metadata_is_refused_and_never_saved(data_dir, fields):
    at = open_page()
    at.file_uploader(key="upload-model").upload("hostile.npz", hostile_model(**fields)).run()
    at.text_input(key="upload-model-name").input("hostile").run()
    at.button(key="save-upload").click().run()
    assert not at.exception, at.exception
    assert any("bad metadata" in m for m in messages(at)), messages(at)
    assert "hostile" not in list_models()


def test_d7_a_model_saved_before_the_checks_cannot_break_the_draw_page(data_dir):
    (data_dir / "models").mkdir()
    (data_dir / "models" / "old.npz").write_bytes(hostile_model(metrics="oops"))
    at = run_app()
    at.selectbox(key="model-picker").select("old").run()
    assert not at.exception, at.exception
    assert any("cannot be used" in e.value for e in at.error)


def test_d6_uploads_are_stored_compressed_and_the_quota_is_enforced(data_dir, monkeypatch):
    import network.modelfile as modelfile
    at = open_page()
    zeros = hostile_model(metrics={"test_accuracy": 0.5})
    at.file_uploader(key="upload-model").upload("zeros.npz", zeros).run()
    at.text_input(key="upload-model-name").input("zeros").run()
    at.button(key="save-upload").click().run()
    saved = list_models()["zeros"]
    assert saved.stat().st_size < 8 * 1024 and load_model(saved).n_params == 7850
    monkeypatch.setattr(modelfile, "MAX_SAVED_BYTES", saved.stat().st_size)  # the server's share is now full
    at.text_input(key="upload-model-name").input("zeros again").run()
    at.button(key="save-upload").click().run()
    assert not at.exception, at.exception
    assert any("space for saved models is full" in m for m in messages(at)), messages(at)
    assert "zeros again" not in list_models()
    assert json.loads(json.dumps(load_model(saved).metadata))["metrics"]["test_accuracy"] == 0.5
