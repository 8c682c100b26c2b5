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


def run_colour(number: int) -> str:
    """A run's colour, kept as long as the run is (the palette cycles)."""
    return PALETTE[(number - 1) % len(PALETTE)]


def scale(styles):
    return {"domain": list(styles), "range": list(styles.values())}

def curves_spec(title, subtitle, x, colours, series, y, styles=None):
    """A Vega-Lite line chart of some curve columns (`series`), one line per
    run and column; `styles`: {channel: {column: style}} tells the columns apart.

"""
    encoding = {
        "x": {"field": x, "type": "quantitative", "title": X_AXES[x]},
        "y": {"field": "value", "type": "quantitative", **y},
        "color": {"field": "run", "type": "nominal", "legend": None, "scale": scale(colours)},
        "tooltip": [{"field": "run"}, {"field": "series"}, {"field": "value", "type": "quantitative", "format": ".4g"},
                    {"field": "step", "type": "quantitative"}],
    }
    for channel, style in (styles or {}).items():
        encoding[channel] = {"field": "series", "type": "nominal", "legend": None, "scale": scale(style)}
    return {"title": {"text": title, "subtitle": subtitle, "anchor": "start"}, "height": 220,
            "transform": [{"fold": series, "as": ["series", "value"]}, {"filter": "isValid(datum.value)"}],
            "mark": "line", "encoding": encoding}


def loss_spec(x, colours):
    return curves_spec("Loss", "faint: each step; bold: epoch average", x, colours, ["loss", "epoch_loss"],
                       {"title": "loss (log scale)", "scale": {"type": "log"}},
                       {"opacity": {"loss": 0.35, "epoch_loss": 1}, "strokeWidth": {"loss": 1, "epoch_loss": 3}})


def accuracy_spec(x, colours):
    return curves_spec("Accuracy", "solid: dev set; dashed: training batches", x, colours,
                       ["dev_accuracy", "train_accuracy"],
                       {"title": "accuracy", "axis": {"format": "%"}, "scale": {"zero": False}},
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


def confusion_chart(counts):
    """(table, spec) of the confusion matrix: a cell per (true digit, reading), its count written in it."""
    frame = pd.DataFrame([(str(t), str(p), int(counts[t][p])) for t in range(10) for p in range(10)],
                         columns=["true digit", "read as", "count"])
    spec = {
        "title": "Confusion matrix: mistakes off the diagonal", "width": 360, "height": 300,
        "encoding": {
            "x": {"field": "read as", "type": "ordinal", "axis": {"orient": "top", "labelAngle": 0}},
            "y": {"field": "true digit", "type": "ordinal", "axis": {"labelOverlap": False}},
        },
        "layer": [
            {"mark": "rect", "encoding": {
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
