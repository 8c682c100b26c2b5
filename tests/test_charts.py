"""The chart specifications and digit cards of ui/ (they import no Streamlit)."""

import numpy as np
import pytest

from network.training import Progress
from ui.cards import CARD, RIGHT, card, cards
from ui.charts import (
    FEW_POINTS,
    MAX_POINTS,
    accuracy_spec,
    batch_accuracy_average,
    chosen_cell,
    confusion_chart,
    curves_frame,
    loss_spec,
    per_class_chart,
    run_colour,
)


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


def running_means(batch, per_epoch):
    """What the training loop reports: the mean of the epoch's batches so far."""
    return np.concatenate([np.cumsum(batch[i:i + per_epoch]) / np.arange(1, len(batch[i:i + per_epoch]) + 1)
                           for i in range(0, len(batch), per_epoch)])


def test_the_training_accuracy_is_a_moving_average_of_batches_without_a_jump_at_each_epoch():
    batch = np.linspace(0.5, 0.9, 40)  # steadily better batches, 10 per epoch
    smoothed = batch_accuracy_average(running_means(batch, 10), 10, window=5)
    expected = [batch[max(0, i - 4):i + 1].mean() for i in range(40)]
    assert smoothed == pytest.approx(expected)
    assert np.all(np.diff(smoothed) > 0)  # the running mean restarted at each epoch: it fell there


def progress(step, dev=None, per_epoch=10):
    return Progress(step=step, total_steps=100, epoch=step / per_epoch, loss=1.0 / step, train_accuracy=0.5,
                    dev_accuracy=dev, learning_rate=0.01, seconds=0.01 * step, samples_per_second=1000.0)


def test_a_run_with_one_dev_measurement_draws_it_as_a_dot_with_round_ticks():
    frame = curves_frame("Run 1", [progress(1), progress(2, dev=0.1171875), progress(3)])
    assert frame.dev_accuracy.notna().sum() == 1
    spec = accuracy_spec("step", {"Run 1": "#000"})
    dots = spec["layer"][1]
    assert dots["mark"]["type"] == "point" and str(FEW_POINTS) in dots["transform"][0]["filter"]
    assert spec["encoding"]["y"]["axis"]["format"] == ".0%"  # 12%, never 11.718750%
    assert "mean of the last" in spec["title"]["subtitle"]
    assert loss_spec("step", {"Run 1": "#000"})["encoding"]["y"]["axis"]["format"] == "~g"


def test_a_clicked_cell_of_the_confusion_matrix_is_chosen_else_the_worst_mistake():
    counts = np.eye(10, dtype=int) * 50
    counts[9, 4] = 7
    assert chosen_cell({}, counts) == (9, 4)
    assert chosen_cell({"cell": [{"true digit": "3", "read as": "5"}]}, counts) == (3, 5)
    assert chosen_cell({"cell": [{"nonsense": 1}]}, counts) == (9, 4)


def test_a_mistake_card_says_the_true_digit_the_reading_and_the_confidence():
    from ui.train_results import mistake_text
    assert mistake_text(9, 4, 0.996) == "true 9\nread as 4\n100%"
