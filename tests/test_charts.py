"""The chart specifications and digit cards of ui/ (they import no Streamlit)."""

import numpy as np

from network.training import Progress
from ui.cards import CARD, RIGHT, card, cards
from ui.charts import MAX_POINTS, accuracy_spec, confusion_chart, curves_frame, loss_spec, per_class_chart, run_colour


def history(steps, per_epoch, dev_every=None):
    return [Progress(step=s, total_steps=steps, epoch=s / per_epoch, loss=float(s), train_accuracy=0.5,
                     dev_accuracy=0.9 if dev_every and s % dev_every == 0 else None, learning_rate=0.1,
                     seconds=s / 10, samples_per_second=100.0) for s in range(1, steps + 1)]


def test_curves_average_the_loss_over_each_epoch_and_keep_every_dev_measurement():
    frame = curves_frame("Run 1", history(12, per_epoch=4, dev_every=5))
    epochs = frame.dropna(subset=["epoch_loss"])
    assert list(epochs.step) == [4, 8, 12] and list(epochs.epoch_loss) == [2.5, 6.5, 10.5]
    assert {5, 10} <= set(frame.dropna(subset=["dev_accuracy"]).step)
    assert set(frame.run) == {"Run 1"}


def test_a_full_batch_run_draws_its_loss_once_as_the_epoch_loss():
    frame = curves_frame("Seed", history(5, per_epoch=1))
    assert frame.loss.isna().all() and list(frame.epoch_loss) == [1, 2, 3, 4, 5]


def test_long_runs_are_thinned_to_about_max_points():
    frame = curves_frame("long", history(10 * MAX_POINTS, per_epoch=10 * MAX_POINTS))
    assert MAX_POINTS / 2 <= len(frame) <= MAX_POINTS + 2 and frame.step.iloc[-1] == 10 * MAX_POINTS


def test_an_empty_history_has_no_curves():
    assert curves_frame("none", []).empty


def test_curve_specs_colour_each_run_and_fold_the_series():
    colours = {"Run 1": run_colour(1), "Run 8": run_colour(8)}
    assert run_colour(1) == run_colour(8)  # the palette cycles
    spec = loss_spec("epoch", colours)
    assert spec["encoding"]["color"]["scale"] == {"domain": ["Run 1", "Run 8"], "range": list(colours.values())}
    assert spec["transform"][0]["fold"] == ["loss", "epoch_loss"]
    assert accuracy_spec("seconds", colours)["encoding"]["x"]["title"] == "Seconds of training"


def test_the_confusion_matrix_has_a_cell_per_pair_and_the_per_digit_chart_a_bar_per_digit():
    counts = np.arange(100).reshape(10, 10)
    frame, spec = confusion_chart(counts)
    assert len(frame) == 100 and frame.set_index(["true digit", "read as"])["count"][("3", "7")] == 37
    assert [layer["mark"] if isinstance(layer["mark"], str) else layer["mark"]["type"]
            for layer in spec["layer"]] == ["rect", "text"]
    frame, spec = per_class_chart([0.9] * 9 + [0.5])
    assert list(frame.digit) == [str(d) for d in range(10)]
    assert spec["encoding"]["y"]["scale"]["domain"] == [0.45, 1]


def test_cards_frame_each_digit_in_its_colour_and_tile_them():
    digit = np.zeros((28, 28), np.uint8)
    one = card(digit, "7 99%", RIGHT)
    assert one.shape == (CARD + 6 + 24, CARD + 6, 3)
    assert tuple(one[0, 0]) == (0x1A, 0x7F, 0x37)  # the frame
    picture = cards(np.stack([digit] * 3), ["1", "2", "3"], [RIGHT] * 3, columns=2)
    assert picture.shape[0] > one.shape[0] and picture.shape[1] > one.shape[1]
