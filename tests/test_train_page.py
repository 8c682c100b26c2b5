"""The Train page through Streamlit's AppTest: settings, a tiny run to the
end, pause and stop, saving, uploads.  AppTest has no clock of its own, so a
test reruns the script until the worker thread has done its part."""

import time
from pathlib import Path

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from network.modelfile import list_models, load_model
from network.run_queue import MAX_RUNNING
from tests.apptest import image_captions
from ui.session import LAST_DRAWING

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def open_page(speed="Full speed"):
    """The Train page, reached through the app's router as a browser would;
    runs at full speed unless said (a watched run lasts WATCH_SECONDS)."""
    at = AppTest.from_file(APP, default_timeout=60)
    if speed:
        at.session_state["train-speed"] = speed
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, at.exception
    return at


def progress_text(at):
    """The first line of the `train-progress` container."""
    return next(m.value for m in at.markdown if "dev accuracy" in m.value or "No run yet" in m.value)


def rerun_until(at, words, timeout=60):
    """Rerun the page (as its fragment would) until the progress line has one of `words`."""
    deadline = time.monotonic() + timeout
    while not any(word in progress_text(at) for word in words):
        assert time.monotonic() < deadline, f"still {progress_text(at)!r}"
        time.sleep(0.2)
        at.run()
        assert not at.exception, at.exception
    return progress_text(at)


def rerun_until_judged(at, timeout=60):
    """Rerun the page once the run has ended and been measured: its results show."""
    worker = at.session_state["train_runs"][-1].worker
    worker.join(timeout)
    assert worker.done
    at.run()
    assert not at.exception, at.exception
    return progress_text(at)


def choose_tiny_custom_run(at, **settings):
    """Custom: 20 images per digit, 5 epochs, 200 dev images (plus `settings`)."""
    at.radio(key="train-preset").set_value("custom").run()
    values = {"train-per-class": 20, "train-length": 5, "train-dev-size": 200, **settings}
    for key, value in values.items():
        at.number_input(key=key).set_value(value)
    at.run()
    assert not at.exception, at.exception


def charts(at):
    return at.get("vega_lite_chart")


def messages(at):
    return [e.value for e in [*at.error, *at.warning, *at.success]]


def train_tiny_run(at):
    choose_tiny_custom_run(at)
    at.button(key="train-start").click().run()
    rerun_until(at, ["Finished"])
    return rerun_until_judged(at)


def csv_bytes(rows, bad_cell=None):
    """A Kaggle-format CSV of random digits; bad_cell=(row, text) spoils one cell."""
    rng = np.random.default_rng(0)
    lines = ["label," + ",".join(f"pixel{i}" for i in range(784))]
    for row in range(rows):
        cells = [str(row % 10)] + [str(v) for v in rng.integers(0, 256, 784)]
        if bad_cell and bad_cell[0] == row:
            cells[5] = bad_cell[1]
        lines.append(",".join(cells))
    return ("\n".join(lines) + "\n").encode()


def test_first_load_offers_the_presets_and_waits_for_start(data_dir):
    at = open_page()
    assert at.title[0].value == "Train a network"
    assert at.radio(key="train-preset").options == ["Fast demo", "Seed", "Default", "Custom"]
    assert "No run yet" in progress_text(at)
    assert not at.button(key="train-start").disabled
    assert at.button(key="train-pause").disabled and at.button(key="train-stop").disabled


@pytest.mark.parametrize("key, value, message", [
    ("train-hidden", "128, many", "hidden layers"),
    ("train-conv", "16 by 5", "conv blocks"),
    ("train-conv", "16x40", "conv"),
    ("train-lr", 0.0, "learning rate"),
])
def test_a_bad_custom_setting_says_what_to_change_and_blocks_start(data_dir, key, value, message):
    at = open_page()
    at.radio(key="train-preset").set_value("custom").run()
    widget = at.text_input(key=key) if isinstance(value, str) else at.number_input(key=key)
    widget.set_value(value).run()
    assert not at.exception
    assert any("Please change a setting" in m and message in m for m in messages(at)), messages(at)
    assert at.button(key="train-start").disabled


def test_a_tiny_run_trains_to_the_end_with_live_charts_and_results(data_dir):
    at = open_page()
    line = train_tiny_run(at)
    assert "Epoch 5.0/5" in line and "%" in line
    assert len(charts(at)) >= 3 + 2  # loss, accuracy, learning rate; confusion matrix, per-digit accuracy
    assert [m.label for m in at.metric] == ["Test accuracy", "Dev accuracy", "Training accuracy"]
    assert float(at.metric[0].value.rstrip("%")) > 50  # from 200 images: far better than chance
    assert any("digits that are" in m.value and "read as" in m.value for m in at.markdown)  # the worst cell
    assert at.button(key="train-pause").disabled  # the run is over


def test_a_run_is_saved_listed_and_never_silently_overwritten(data_dir):
    at = open_page()
    train_tiny_run(at)
    at.text_input(key="model-name").input("tiny run").run()
    at.button(key="save-model").click().run()
    assert any("Saved as “tiny run”" in m.value for m in at.success), messages(at)
    saved = list_models()["tiny run"]
    assert saved.parent == data_dir / "models"
    assert load_model(saved).metadata["metrics"]["test_accuracy"] > 0.5
    assert at.get("download_button")

    first_bytes = saved.read_bytes()
    at.button(key="save-model").click().run()
    assert any("exists already" in m.value for m in at.warning), messages(at)
    assert saved.read_bytes() == first_bytes
    at.checkbox(key="model-overwrite").check().run()
    at.button(key="save-model").click().run()
    assert any("Saved as “tiny run”" in m.value for m in at.success), messages(at)


@pytest.mark.parametrize("name, message", [("", "give the model a name"), ("../escape", "no '/'"),
                                           ("default", "shipped model")])
def test_bad_model_names_are_refused_with_a_message(data_dir, name, message):
    at = open_page()
    train_tiny_run(at)
    at.text_input(key="model-name").input(name).run()
    at.checkbox(key="model-overwrite").check()
    at.button(key="save-model").click().run()
    assert any(message in m.value for m in at.error), messages(at)
    assert set(list_models()) <= {"default", "seed"}


def test_pause_resume_stop_and_a_new_run_stops_the_old_one(data_dir):
    at = open_page()
    choose_tiny_custom_run(at, **{"train-per-class": 100, "train-length": 1000})
    at.button(key="train-start").click().run()
    rerun_until(at, ["Training · Epoch"])
    at.button(key="train-pause").click().run()
    assert at.button(key="train-pause").label == "Resume"
    rerun_until(at, ["Paused"])
    at.button(key="train-pause").click().run()
    rerun_until(at, ["Training"])
    first = at.session_state["train_runs"][-1].worker
    at.button(key="train-start").click().run()  # a second run ends the first
    first.join(5)
    assert first.done
    at.button(key="train-stop").click().run()
    assert "Stopped" in progress_text(at)  # at once: Stop waits for the step in progress
    line = rerun_until_judged(at)
    assert "Stopped" in line and "dev accuracy" in line
    assert any("can still be tested and saved" in i.value for i in at.info)
    assert [m.label for m in at.metric][:1] == ["Test accuracy"]  # a stopped run is judged too


def test_a_bad_csv_upload_names_the_file_and_row(data_dir):
    at = open_page()
    at.radio(key="train-data").set_value("My CSV file").run()
    assert at.button(key="train-start").disabled  # nothing to train on yet
    at.file_uploader(key="train-csv").upload("digits.csv", csv_bytes(20, bad_cell=(3, "banana"))).run()
    assert not at.exception
    assert any("digits.csv, row 4 (line 5), column pixel4" in e.value and "banana" in e.value for e in at.error), \
        messages(at)
    assert at.button(key="train-start").disabled


def test_a_good_csv_upload_trains_and_is_judged_on_dev(data_dir):
    at = open_page()
    at.radio(key="train-data").set_value("My CSV file").run()
    at.file_uploader(key="train-csv").upload("digits.csv", csv_bytes(100)).run()
    assert not at.error, messages(at)
    assert any("100 labelled digits" in c.value for c in at.caption)
    at.button(key="train-start").click().run()
    rerun_until(at, ["Finished"])
    rerun_until_judged(at)
    assert at.metric[0].label == "Accuracy on dev"


def test_an_uploaded_model_file_is_checked_and_saved_under_a_name(data_dir):
    at = open_page()
    uploader = at.file_uploader(key="upload-model")
    uploader.upload("broken.npz", b"PK\x03\x04 not really a zip").run()
    at.text_input(key="upload-model-name").input("from upload").run()
    at.button(key="save-upload").click().run()
    assert any("broken.npz" in e.value for e in at.error), messages(at)
    assert "from upload" not in list_models()

    at.file_uploader(key="upload-model").set_value(None)
    at.file_uploader(key="upload-model").upload("seed copy.npz", list_models()["seed"].read_bytes()).run()
    at.text_input(key="upload-model-name").input("from upload").run()
    at.button(key="save-upload").click().run()
    assert any("Saved as “from upload”" in m.value for m in at.success), messages(at)
    assert "from upload" in list_models()


def test_the_users_drawing_is_read_as_the_network_learns(data_dir):
    at = open_page()
    seven = np.zeros((28, 28), np.float32)
    seven[6, 8:20] = 1.0
    seven[6:22, 19] = 1.0
    at.session_state[LAST_DRAWING] = seven
    train_tiny_run(at)
    assert any(caption.startswith("Your drawing: read as") for caption in image_captions(at))
    assert not any("Draw a digit on the Draw page" in c.value for c in at.caption)


def test_a_diverging_run_stops_with_advice_not_a_traceback(data_dir):
    at = open_page()
    at.radio(key="train-preset").set_value("custom").run()
    at.selectbox(key="train-optimizer").set_value("gd")
    at.selectbox(key="train-init").set_value("uniform")
    choose_tiny_custom_run(at, **{"train-lr": 10.0})
    at.button(key="train-start").click().run()
    assert "Diverged" in rerun_until(at, ["Diverged", "Finished"])
    assert any("diverged" in e.value and "learning rate" in e.value for e in at.error), messages(at)
    assert not at.exception
    rerun_until_judged(at)
    assert any("the Adam optimiser" in e.value for e in at.error)  # advice from the run's own settings (gd)
    # Not offered for saving as if it were good:
    assert any("diverged" in w.value and "not a good reader" in w.value for w in at.warning), messages(at)
    assert at.button(key="save-model").disabled
    at.checkbox(key="model-save-diverged").check().run()
    assert not at.button(key="save-model").disabled


def test_a_classroom_shares_the_server_and_the_last_in_waits_in_line(data_dir):
    """Three sessions at once: MAX_RUNNING train, the next waits and says so."""
    classroom = [open_page() for _ in range(MAX_RUNNING + 1)]
    try:
        for at in classroom:
            choose_tiny_custom_run(at, **{"train-per-class": 100, "train-length": 1000})
            at.button(key="train-start").click().run()
        for at in classroom[:MAX_RUNNING]:
            rerun_until(at, ["Training · Epoch"])
        last = classroom[-1]
        last.run()
        assert progress_text(last).startswith("**Waiting: 1st in line")
        classroom[0].button(key="train-stop").click().run()
        rerun_until(last, ["Training · Epoch"])
    finally:
        for at in classroom:
            at.session_state["train_runs"][-1].worker.stop()


def test_a_conv_network_shows_its_first_layer_filters(data_dir):
    at = open_page()
    at.radio(key="train-preset").set_value("custom").run()
    at.text_input(key="train-conv").set_value("4x5").run()
    train_tiny_run(at)
    assert any("convolution filter looks for (5x5 weights)" in caption for caption in image_captions(at))


def test_a_bug_is_logged_and_the_page_says_so_without_a_traceback(data_dir, monkeypatch, caplog):
    import ui.train_settings

    def broken(*args):
        raise RuntimeError("an engine bug")

    monkeypatch.setattr(ui.train_settings, "check_recipe", broken)
    at = open_page()  # no exception escapes to the page
    assert any("something went wrong" in m for m in messages(at)), messages(at)
    assert "an engine bug" not in " ".join(messages(at))
    assert any(r.exc_info and "an engine bug" in str(r.exc_info[1]) for r in caplog.records)

def long_run(at):
    """A custom run that would take minutes."""
    choose_tiny_custom_run(at, **{"train-per-class": 100, "train-length": 1000})
    at.button(key="train-start").click().run()
    rerun_until(at, ["Training · Epoch"])
    return at.session_state["train_runs"][-1].worker


def test_a_run_is_paced_to_be_watched_by_default(data_dir):
    at = open_page(speed=None)
    choose_tiny_custom_run(at)
    at.button(key="train-start").click().run()
    run = at.session_state["train_runs"][-1]
    try:
        assert run.total_steps == 5 * 2  # 200 images in batches of 128, 5 epochs
        assert run.worker.snapshot().pace == pytest.approx(25.0 / run.total_steps)
    finally:
        run.worker.stop()


def test_while_paused_resume_is_the_primary_button_and_one_step_steps(data_dir):
    at = open_page()
    worker = long_run(at)
    try:
        at.button(key="train-pause").click().run()
        rerun_until(at, ["Paused"])
        assert at.button(key="train-pause").label == "Resume"
        assert at.button(key="train-pause").proto.type == "primary"
        assert at.button(key="train-start").proto.type == "secondary"
        before = len(worker.snapshot().history)
        at.button(key="train-one-step").click().run()
        deadline = time.monotonic() + 30
        while len(worker.snapshot().history) != before + 1:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        at.button(key="train-one-epoch").click().run()
        per_epoch = 8  # 1,000 images in batches of 128
        while len(worker.snapshot().history) != before + 1 + per_epoch:
            assert time.monotonic() < deadline
            time.sleep(0.05)
    finally:
        worker.stop()


def test_start_asks_before_ending_a_paused_run(data_dir):
    at = open_page()
    worker = long_run(at)
    try:
        at.button(key="train-pause").click().run()
        rerun_until(at, ["Paused"])
        at.button(key="train-start").click().run()
        assert any("is paused. Start a new run" in w.value for w in at.warning)
        assert len(at.session_state["train_runs"]) == 1 and not worker.done
        at.button(key="train-start-cancel").click().run()
        assert not any("is paused" in w.value for w in at.warning) and not worker.done
        at.button(key="train-start").click().run()
        at.button(key="train-start-confirm").click().run()
        assert len(at.session_state["train_runs"]) == 2
    finally:
        for run in at.session_state["train_runs"]:
            run.worker.stop()


def test_a_small_csv_is_described_as_it_is(data_dir):
    at = open_page()
    at.radio(key="train-data").set_value("My CSV file").run()
    at.file_uploader(key="train-csv").upload("digits.csv", csv_bytes(300)).run()
    notes = " ".join(c.value for c in at.caption)
    # 60 of the 300 are held out as dev digits
    assert "two passes over the 240 training digits. They are the digits chosen above" in notes
    assert "55,000" not in notes


def test_an_uploaded_model_is_named_after_its_file_and_downloaded_from_its_section(data_dir):
    at = open_page()
    train_tiny_run(at)
    at.file_uploader(key="upload-model").upload("seed copy.npz", list_models()["seed"].read_bytes()).run()
    assert at.text_input(key="upload-model-name").value == "seed copy"
    at.button(key="save-upload").click().run()
    assert any("Saved as “seed copy”" in m.value for m in at.success), messages(at)
    downloads = at.get("download_button")
    assert len(downloads) == 1 and "seed copy" in downloads[0].proto.label
    assert not any("uploaded copy" in d.proto.label for d in downloads)
