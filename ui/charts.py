"""Chart specifications (Vega-Lite, as plain dicts) and the tables they draw.

Nothing here imports Streamlit, so the charts can be unit-tested; the pages
hand them to st.vega_lite_chart.  Plain Vega-Lite rather than Altair: the
learning curves are redrawn every second, and Altair's schema checks cost
far more than drawing them.
"""

import math

import numpy as np
import pandas as pd

MAX_POINTS = 400        # points per curve per run: enough to see the noise, cheap to draw
SMOOTHING = 50          # steps in the moving average of the training batches' accuracy
FEW_POINTS = 20         # a curve with at most this many points draws them as dots too
X_AXES = {"epoch": "Epochs", "step": "Steps", "seconds": "Seconds of training"}
PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d"]


def curves_frame(label, history):
    """A run's learning curves, one row per step shown: every step with a
    dev measurement or at an epoch's end, and up to MAX_POINTS others."""
    steps = np.array([(p.step, p.epoch, p.seconds, p.loss, p.train_accuracy,
                       np.nan if p.dev_accuracy is None else p.dev_accuracy, p.learning_rate) for p in history])
    if not len(steps):
        return pd.DataFrame()
    frame = pd.DataFrame(steps, columns=["step", "epoch", "seconds", "loss", "train_accuracy", "dev_accuracy",
                                         "learning_rate"])
    per_epoch = round(1 / frame.epoch[0])
    frame["train_accuracy"] = batch_accuracy_average(frame.train_accuracy.to_numpy(), per_epoch,
                                                     SMOOTHING if per_epoch > 1 else 1)
    if per_epoch == 1:  # each step saw every image (full batch): its loss is the epoch's, drawn once, bold
        frame["epoch_loss"], frame["loss"] = frame.loss, np.nan
    else:
        complete = len(frame) // per_epoch * per_epoch
        frame["epoch_loss"] = np.nan
        averages = frame.loss[:complete].to_numpy().reshape(-1, per_epoch).mean(axis=1)
        frame.loc[np.arange(per_epoch - 1, complete, per_epoch), "epoch_loss"] = averages
    shown = (frame.index % math.ceil(len(frame) / MAX_POINTS) == 0) | frame.dev_accuracy.notna() \
        | frame.epoch_loss.notna() | (frame.index == len(frame) - 1)
    return frame[shown].assign(run=label)


def batch_accuracy_average(running, per_epoch, window=SMOOTHING):
    """The moving average over the last `window` steps of each batch's
    accuracy, from the running mean over the epoch that each step reports
    (which jumps back to one batch's accuracy at every new epoch).  A
    batch's accuracy: i * mean_i - (i - 1) * mean_(i-1), i its place in the
    epoch (batches of one size; the epoch's last one may be smaller)."""
    place = np.arange(len(running)) % per_epoch + 1
    before = np.where(place > 1, np.roll(running, 1), 0.0)
    batch = place * running - (place - 1) * before
    sums = np.cumsum(np.insert(batch, 0, 0.0))
    counts = np.minimum(np.arange(1, len(batch) + 1), window)
    return (sums[1:] - sums[np.arange(1, len(batch) + 1) - counts]) / counts


def run_colour(number: int) -> str:
    """A run's colour, kept as long as the run is (the palette cycles)."""
    return PALETTE[(number - 1) % len(PALETTE)]


def scale(styles):
    return {"domain": list(styles), "range": list(styles.values())}

def curves_spec(title, subtitle, x, colours, series, y, styles=None):
    """A Vega-Lite line chart of some curve columns (`series`), one line per
    run and column; `styles`: {channel: {column: style}} tells the columns
    apart.  A curve of few points (a run paused early, a diverged one) shows
    them as dots, since one point draws no line."""
    encoding = {
        "x": {"field": x, "type": "quantitative", "title": X_AXES[x]},
        "y": {"field": "value", "type": "quantitative", **y},
        "color": {"field": "run", "type": "nominal", "legend": None, "scale": scale(colours)},
        "tooltip": [{"field": "run"}, {"field": "series"}, {"field": "value", "type": "quantitative", "format": ".4g"},
                    {"field": "step", "type": "quantitative"}],
    }
    for channel, style in (styles or {}).items():
        encoding[channel] = {"field": "series", "type": "nominal", "legend": None, "scale": scale(style)}
    dots = {"transform": [{"filter": f"datum.points <= {FEW_POINTS}"}],
            "mark": {"type": "point", "filled": True, "size": 60}}
    return {"title": {"text": title, "subtitle": subtitle, "anchor": "start"}, "height": 220,
            "transform": [{"fold": series, "as": ["series", "value"]}, {"filter": "isValid(datum.value)"},
                          {"joinaggregate": [{"op": "count", "as": "points"}], "groupby": ["run", "series"]}],
            "encoding": encoding, "layer": [{"mark": "line"}, dots]}


def loss_spec(x, colours):
    return curves_spec("Loss", "faint: each step; bold: epoch average", x, colours, ["loss", "epoch_loss"],
                       {"title": "loss (log scale)", "scale": {"type": "log"}, "axis": {"format": "~g"}},
                       {"opacity": {"loss": 0.35, "epoch_loss": 1}, "strokeWidth": {"loss": 1, "epoch_loss": 3}})


def accuracy_spec(x, colours):
    return curves_spec("Accuracy", f"solid: dev set; dashed: training batches, mean of the last {SMOOTHING} steps",
                       x, colours, ["dev_accuracy", "train_accuracy"],
                       {"title": "accuracy", "axis": {"format": ".0%", "tickMinStep": 0.01}, "scale": {"zero": False}},
                       {"strokeDash": {"dev_accuracy": [1, 0], "train_accuracy": [4, 3]}})


def learning_rate_spec(x, colours):
    return curves_spec("Learning rate", "the size of each step", x, colours, ["learning_rate"],
                       {"title": "learning rate"})


def per_class_chart(per_class_accuracy):
    """(table, spec) of a bar per digit: how often the network reads it right."""
    frame = pd.DataFrame({"digit": [str(d) for d in range(10)], "accuracy": per_class_accuracy})
    lowest = max(0.0, min(per_class_accuracy) - 0.05)
    spec = {
        "title": "Accuracy for each digit", "width": 360, "height": 300, "mark": {"type": "bar", "clip": True},
        "encoding": {
            "x": {"field": "digit", "type": "nominal", "axis": {"labelAngle": 0}},
            "y": {"field": "accuracy", "type": "quantitative", "axis": {"format": "%"},
                  "scale": {"zero": False, "domain": [lowest, 1]}},
            "tooltip": [{"field": "digit"}, {"field": "accuracy", "type": "quantitative", "format": ".1%"}],
        },
    }
    return frame, spec


CELL = "cell"  # the confusion matrix's selection: the cell clicked
CELL_SELECTION = {"name": CELL, "select": {"type": "point", "fields": ["true digit", "read as"]}}


def chosen_cell(selection, counts):
    """(true digit, reading) of the clicked cell, else the most frequent mistake."""
    for point in (selection or {}).get(CELL) or []:
        try:
            return int(point["true digit"]), int(point["read as"])
        except (KeyError, TypeError, ValueError):
            continue
    mistakes = np.array(counts) - np.diag(np.diag(counts))
    true, read = np.unravel_index(mistakes.argmax(), mistakes.shape)
    return int(true), int(read)


def confusion_chart(counts):
    """(table, spec) of the confusion matrix: a cell per (true digit, reading), its count written in it."""
    frame = pd.DataFrame([(str(t), str(p), int(counts[t][p])) for t in range(10) for p in range(10)],
                         columns=["true digit", "read as", "count"])
    spec = {
        "title": {"text": "Confusion matrix: mistakes off the diagonal",
                  "subtitle": "click a cell to see its digits"}, "width": 360, "height": 300,
        "encoding": {
            "x": {"field": "read as", "type": "ordinal", "axis": {"orient": "top", "labelAngle": 0}},
            "y": {"field": "true digit", "type": "ordinal", "axis": {"labelOverlap": False}},
        },
        "layer": [
            {"mark": {"type": "rect", "cursor": "pointer"}, "params": [CELL_SELECTION], "encoding": {
                "color": {"field": "count", "type": "quantitative", "scale": {"type": "symlog", "scheme": "blues"},
                          "legend": None},
                "tooltip": [{"field": "true digit"}, {"field": "read as"},
                            {"field": "count", "type": "quantitative"}]}},
            {"mark": {"type": "text", "fontSize": 10}, "encoding": {
                "text": {"condition": {"test": "datum.count > 0", "field": "count", "type": "quantitative"},
                         "value": ""},
                "color": {"condition": {"test": "datum.count > 100", "value": "white"}, "value": "black"}}},
        ],
    }
    return frame, spec


def large_labels(spec):
    """The spec with type readable from the back of a room (presenter mode)."""
    return {**spec, "config": {"axis": {"labelFontSize": 20, "titleFontSize": 20},
                               "title": {"fontSize": 26, "subtitleFontSize": 18},
                               "header": {"labelFontSize": 20}}}


def probability_chart(probabilities, big=False):
    """(table, spec) of the network's probability for each digit, as bars."""
    frame = pd.DataFrame({"digit": [str(d) for d in range(10)], "probability": [float(p) for p in probabilities]})
    spec = {
        "height": 320 if big else 200, "mark": {"type": "bar", "tooltip": True},
        "encoding": {
            "x": {"field": "digit", "type": "ordinal", "axis": {"labelAngle": 0}},
            "y": {"field": "probability", "type": "quantitative", "scale": {"domain": [0, 1]},
                  "axis": {"format": "%", "tickCount": 5}},
        },
    }
    return frame, large_labels(spec) if big else spec
