"""The Train page's "Learn from drawings" through AppTest: the drawings'
counts, a fine-tuning run to the end, before/after, saving a new model."""

from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from network.modelfile import list_models, load_model
from network.store import open_store

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")
SEED_LABEL = "Seed recipe 784-10-10 (shipped)"


def open_drawings(at=None):
    at = AppTest.from_file(APP, default_timeout=120)
    at.switch_page("pages/train.py")
    at.run()
    at.radio(key="train-data").set_value("People's drawings").run()
    assert not at.exception, at.exception
    return at


def test_without_drawings_the_page_says_how_to_get_some(data_dir):
    at = open_drawings()
    assert any("no drawings" in i.value for i in at.info)
    assert not [b for b in at.button if b.key == "finetune-start"]


def test_corrections_fine_tune_a_model_which_is_saved_as_a_new_one(data_dir, mnist_cache):
    if mnist_cache is None:
        pytest.skip("MNIST cannot be obtained here")
    with np.load(mnist_cache) as mnist:
        images, labels = mnist["x_test"][:100], mnist["y_test"][:100]
    store = open_store()
    for i, (image, label) in enumerate(zip(images, labels)):
        store.add_drawing(image / 255, int(label), "correction", student=f"session {i % 10}")

    at = open_drawings()
    counts = at.dataframe[0].value
    assert counts.loc["to learn from"].sum() + counts.loc["held out"].sum() == 100
    assert counts.loc["held out"].sum() >= 20 and not at.warning
    at.selectbox(key="finetune-model").set_value(SEED_LABEL).run()
    at.button(key="finetune-start").click().run()
    worker = at.session_state["train_finetune"][0]
    worker.join(300)
    assert worker.snapshot().state == "finished", worker.snapshot().message
    at.run()
    assert not at.exception, at.exception
    assert "Finished" in at.markdown[-1].value or any("Finished" in m.value for m in at.markdown)
    table = at.table[0].value
    assert list(table.columns) == ["before", "after"] and table.index[1] == "MNIST test (10,000)"
    assert table.loc["MNIST test (10,000)", "before"] == "86.12%"   # the seed model, before
    at.text_input(key="finetune-name").set_value("seed plus drawings")
    at.button(key="finetune-save").click().run()
    assert any("Saved" in s.value for s in at.success)
    saved = load_model(list_models()["seed plus drawings"])
    assert saved.metadata["finetune"]["held_out_count"] == counts.loc["held out"].sum()
    assert load_model(list_models()["seed"]).metadata.get("finetune") is None   # the shipped one untouched
