"""Train page: train a network in the browser, watch it learn, keep the best.

Training never runs in this script: a worker thread per run (network/worker.py)
takes the steps, and this page gathers the settings, starts, pauses and stops
the worker, and redraws from the worker's snapshots in a fragment that reruns
every second while the run lives.  The page never runs a network that is
still training; the worker computes what the page shows about it.
"""

import dataclasses
import html
import math
from dataclasses import dataclass

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st
from PIL import Image, ImageDraw, ImageFont

from network.activations import ACTIVATIONS
from network.augment import AUGMENTATIONS
from network.data import TRAIN_SIZE, DataError, fetch_mnist, load_csv
from network.model import INITS, build_layers
from network.modelfile import ModelFileError, load_model, model_path, save_model, validate_model_name
from network.optimizers import OPTIMIZER_NAMES, OPTIMIZERS, SCHEDULES
from network.training import PRESETS, TrainConfig, parse_conv, parse_widths, total_steps
from network.visualise import diverging, enlarge, tile
from network.worker import (ABANDONED, DIVERGED, EVALUATING, FAILED, FINISHED, MAX_RUNNING, PAUSED, RUNNING,
                            STOPPED, WAITING, TrainingWorker)
from pages import LAST_DRAWING

# How often the live view redraws.  Every redraw costs the server a script
# thread and its messages, which compete with the training threads for
# Python's GIL: with ten browser sessions, eight runs waiting in line that
# redrew every second slowed the two training runs forty-fold.
REFRESH_SECONDS = 1.0       # while the network trains
IDLE_REFRESH_SECONDS = 3.0  # waiting in line or paused: only the queue position and the heartbeat
STOP_WAIT = 1.0         # seconds Stop waits for the step in progress, to show the run stopped at once
MAX_RUNS_KEPT = 6       # runs of a session kept for comparison (each holds its network)
MAX_POINTS = 400        # points per curve per run: enough to see the noise, cheap to draw
EVALUATIONS_PER_RUN = 30  # dev measurements a Custom run makes

# Session state keys.
RUNS = "train_runs"
CSV_CACHE = "train_csv_digits"
SAVED_PATH = "train_saved_path"

PRESET_NAMES = {"fast": "Fast demo", "seed": "Seed", "default": "Default", "custom": "Custom"}
PRESET_NOTES = {
    "fast": "A good model in seconds, for a class: one hidden layer of 128 ReLU units, Adam, "
            "two passes over the 55,000 training digits.",
    "seed": "The original notebook, exactly: 784-10-10, uniform random start, plain gradient descent on "
            "all images at once, learning rate 0.1, 500 iterations. Watch how slowly it climbs.",
    "default": (f"The shipped model's recipe: a small convolutional network trained for "
                f"{PRESETS['default'].epochs} epochs on shifted, rotated, slanted, rescaled and thickened "
                "digits. The best reader of drawings, but slow in the browser: expect several minutes, "
                "more while other runs share the server."),
    "custom": "Every setting is yours: they appear below.",
}
BATCH_SIZES = [1, 8, 16, 32, 64, 128, 256, 512, 1024, "full"]
MNIST, CSV = "MNIST", "My CSV file"
X_AXES = {"epoch": "Epochs", "step": "Steps", "seconds": "Seconds of training"}
STATE_WORDS = {WAITING: "Waiting", RUNNING: "Training", PAUSED: "Paused", FINISHED: "Finished", STOPPED: "Stopped",
               DIVERGED: "Diverged", ABANDONED: "Stopped", FAILED: "Failed"}
RIGHT, WRONG = "#1a7f37", "#cf222e"
PALETTE = ["#4c78a8", "#f58518", "#54a24b", "#b279a2", "#e45756", "#72b7b2", "#9d755d"]
CARD = 56               # pixels of a digit in a picture of digits
FONT = ImageFont.load_default(size=18)


@dataclass
class Run:
    """One run of this session: its worker and the name it has in legends."""

    number: int
    label: str
    config: TrainConfig
    worker: TrainingWorker
    curves: pd.DataFrame | None = None  # kept once the run has ended: it no longer changes


def session_runs():
    return st.session_state.setdefault(RUNS, [])


def current_run():
    runs = session_runs()
    return runs[-1] if runs else None


# -- settings -----------------------------------------------------------------

def custom_config(data_size):
    """The Custom recipe's controls, as a TrainConfig; ValueError for settings that do not parse."""
    base = PRESETS["fast"]
    with st.container(border=True):
        st.markdown("**Custom settings**: hover over the ? beside a setting to see what it does to learning.")
        shape, stepping, length_column, sample = st.columns(4)
        hidden = shape.text_input(
            "Hidden layers", "128", key="train-hidden",
            help="Widths of the hidden layers, e.g. 256, 128. More units can learn more patterns but train "
                 "slower; leave it empty for no hidden layer at all (a linear model, about 92%).")
        conv = shape.text_input(
            "Conv blocks (optional)", "", key="train-conv",
            help="Convolution + 2x2 pooling blocks as FILTERSxKERNEL, e.g. 16x5, 32x3. They find strokes "
                 "anywhere in the image and read drawings better, but train many times slower here.")
        activation = shape.selectbox(
            "Activation", list(ACTIVATIONS), key="train-activation",
            help="The bend after each hidden unit. ReLU learns fastest; sigmoid and tanh flatten out "
                 "(saturate) and learn slower.")
        init = shape.selectbox(
            "Initialisation", INITS, key="train-init",
            help="The random starting weights. He suits ReLU, Xavier suits tanh and sigmoid; 'uniform' is "
                 "the seed notebook's rand() - 0.5, far too large for wide layers.")
        dropout = shape.slider(
            "Dropout", 0.0, 0.9, 0.0, 0.05, key="train-dropout",
            help="Switches off this share of hidden units at random in each step, so no unit can rely on "
                 "another: less overfitting, slower learning.")
        optimizer = stepping.selectbox(
            "Optimiser", list(OPTIMIZERS), index=list(OPTIMIZERS).index(base.optimizer),
            format_func=OPTIMIZER_NAMES.get, key="train-optimizer",
            help="How a gradient becomes a step. Gradient descent steps straight downhill; momentum builds "
                 "up speed along steady slopes; Adam also scales each weight's step, so it forgives a rough "
                 "learning rate.")
        lr = stepping.number_input(
            "Learning rate", 0.0, 10.0, base.lr, step=0.0005, format="%.4f", key="train-lr",
            help="The size of each step. Too small and learning crawls; too large and the loss jumps about "
                 "or blows up. Adam likes about 0.001, gradient descent about 0.1.")
        schedule = stepping.selectbox(
            "Schedule", SCHEDULES, key="train-schedule",
            help="How the learning rate changes during training: constant; step (divided by 10 at half "
                 "and at three quarters); cosine (glides down to 0). Smaller steps at the end settle deeper.")
        l2 = stepping.number_input(
            "L2 weight decay", 0.0, 0.99, 0.0, step=0.0001, format="%.4f", key="train-l2",
            help="Pulls every weight towards zero. A little fights overfitting a small training set; too much "
                 "and the network cannot learn.")
        batch = length_column.select_slider(
            "Batch size", BATCH_SIZES, value=base.batch_size, key="train-batch",
            help="Images per step. Small batches take many quick, noisy steps; 'full' takes one exact but "
                 "slow step per epoch over every image (the seed notebook).")
        unit = length_column.radio(
            "Train for", ["epochs", "iterations"], horizontal=True, key="train-length-unit",
            help="An epoch is one pass over every training image; an iteration is one step (one batch).")
        length = length_column.number_input(
            f"Number of {unit}", 1, 1_000_000, base.epochs if unit == "epochs" else 500, key="train-length",
            help="Longer training fits the training images better; watch the dev accuracy to see when more "
                 "stops helping, or starts hurting (overfitting).")
        augment = length_column.multiselect(
            "Augmentation", AUGMENTATIONS, key="train-augment",
            help="Trains on randomly shifted, rotated, rescaled, thicker or thinner copies of the digits: "
                 "learns slower, but reads hand-drawn digits better.")
        per_class = sample.number_input(
            "Images per digit (0 = all)", 0, 10_000, 0, step=10, key="train-per-class",
            help="Train on only this many images of each digit. A few hundred learn in a second or two but "
                 "generalise worse: compare train and dev accuracy.")
        dev_size = sample.number_input(
            "Dev images", 0, 20_000, base.dev_size, step=500, key="train-dev-size",
            help="Images held out of training to measure progress honestly: the network never learns from them.")
        seed = sample.number_input(
            "Random seed", 0, 2**31 - 1, 0, key="train-seed",
            help="Fixes the starting weights, the dev split and the order of the batches: the same seed and "
                 "settings train the same network; another seed shows how much luck is involved.")
    config = TrainConfig(
        hidden=parse_widths(hidden), conv=parse_conv(conv), activation=activation,
        init=init, optimizer=optimizer, lr=float(lr), schedule=schedule,
        batch_size=None if batch == "full" else batch, epochs=length if unit == "epochs" else None,
        iterations=length if unit == "iterations" else None, l2=float(l2), dropout=float(dropout),
        augment=tuple(augment), seed=int(seed), dev_size=int(dev_size), per_class=int(per_class) or None)
    return with_live_evaluations(config, data_size)


def with_live_evaluations(config, data_size):
    """Measure dev accuracy about EVALUATIONS_PER_RUN times, so the curves move during the run."""
    n_train = 10 * config.per_class if config.per_class else max(1, data_size - config.dev_size)
    return dataclasses.replace(config, eval_every=max(1, total_steps(config, n_train) // EVALUATIONS_PER_RUN))


def fit_to_data(config, data_size):
    """A preset's dev set made to fit a small CSV: at most a fifth of its rows."""
    return dataclasses.replace(config, dev_size=min(config.dev_size, data_size // 5))


def check_recipe(config, data_size):
    """None if the recipe can run, else a message saying what to change."""
    if config.dev_size >= data_size:
        return f"the dev set ({config.dev_size:,}) must be smaller than the {data_size:,} digits to learn from"
    try:
        config.check()
        build_layers(config.architecture(), np.random.default_rng())  # the shapes, without the weights
    except ValueError as error:
        return str(error)
    return None


def uploaded_digits(upload):
    """The Digits in an uploaded Kaggle CSV, parsed once per upload; None,
    after a message naming the file, row and column, for a bad one."""
    cached = st.session_state.get(CSV_CACHE)
    if cached is None or cached[0] != upload.file_id:
        try:
            cached = (upload.file_id, load_csv(upload), None)
        except DataError as error:
            cached = (upload.file_id, None, str(error))
        st.session_state[CSV_CACHE] = cached
    _, digits, problem = cached
    if problem:
        st.error(f"This file cannot be used: {problem}")
    else:
        st.caption(f"{len(digits):,} labelled digits. Without a separate test set, runs are judged on the "
                   "dev digits held out of training.")
    return digits


def choose_data():
    """MNIST, an uploaded CSV's Digits, or None until a good CSV is uploaded."""
    kind = st.radio("Digits to learn from", [MNIST, CSV], horizontal=True, key="train-data",
                    help="MNIST: 60,000 handwritten digits, plus 10,000 more to test on (downloaded on first "
                         "use). Or your own CSV in the format of Kaggle's digit recognizer: a header "
                         "label,pixel0,...,pixel783, then one digit per row with pixels from 0 to 255.")
    if kind == MNIST:
        return MNIST
    upload = st.file_uploader("CSV file", type=["csv"], key="train-csv")
    return uploaded_digits(upload) if upload is not None else None


def choose_preset():
    preset = st.radio("Recipe", list(PRESET_NAMES), format_func=PRESET_NAMES.get, horizontal=True,
                      key="train-preset", help="A ready-made recipe, or Custom to choose every setting.")
    st.caption(PRESET_NOTES[preset])
    return preset


def recipe(preset, data):
    """(TrainConfig or None, problem message or None) for the preset, or
    from the Custom controls; a preset's dev set is fitted to a small CSV."""
    data_size = TRAIN_SIZE if data is MNIST or data is None else len(data)
    try:
        config = custom_config(data_size) if preset == "custom" else fit_to_data(PRESETS[preset], data_size)
    except ValueError as error:
        return None, str(error)
    return config, check_recipe(config, data_size)


def show_recipe(config, problem):
    if problem:
        st.error(f"Please change a setting: {problem}")
    elif config is not None:
        st.caption(f"`{config.describe()}` · {config.dev_size:,} dev images")


# -- starting and steering a run ------------------------------------------------

def shared_mnist():
    """MNIST, obtained on first use with a progress bar; fetch_mnist keeps it
    in memory, read-only, for every session of the server.

    Not st.cache_resource: that would replay the progress bar into a block
    drawn outside the cached function, and every session after the first
    would fail with CacheReplayClosureError."""
    bar = st.empty()

    def show(fraction, message=""):
        bar.progress(min(max(float(fraction), 0.0), 1.0), text=message or "Obtaining MNIST...")

    try:
        return fetch_mnist(progress=show)
    finally:
        bar.empty()


def training_source(data):
    """(labelled digits, test digits or None, description) to train on."""
    if data is MNIST:
        mnist = shared_mnist()
        return mnist.train, mnist.test, f"MNIST ({mnist.source})"
    return data, None, data.source


def start_run(preset, config, data):
    """Stop the session's live run, if any, and start a new one."""
    try:
        labelled, test, source = training_source(data)
        worker = TrainingWorker(config, labelled, test, source, drawing=st.session_state.get(LAST_DRAWING))
    except (DataError, ValueError) as error:
        st.error(f"Cannot start: {error}")
        return
    runs = session_runs()
    if runs:
        runs[-1].worker.stop()  # never two runs per session
    number = runs[-1].number + 1 if runs else 1
    label = f"Run {number} · {PRESET_NAMES[preset]} · {config.describe()}"
    runs.append(Run(number, label, config, worker.start()))
    del runs[:-MAX_RUNS_KEPT]
    st.rerun()


def control_buttons(preset, config, problem, data):
    """Start, Pause/Resume and Stop."""
    run = current_run()
    live = run is not None and not run.worker.done
    paused = live and run.worker.paused
    # No help= on these buttons: Streamlit then renders each button twice
    # (one hidden), which breaks `.st-key-train-start button` in browser tests.
    with st.container(horizontal=True):
        start = st.button("Start", key="train-start", type="primary",
                          disabled=bool(problem) or config is None or data is None)
        pause = st.button("Resume" if paused else "Pause", key="train-pause", disabled=not live)
        stop = st.button("Stop", key="train-stop", disabled=not live)
    st.caption("Start trains a new network (ending any run in progress). Pause holds it where it is; "
               "Stop ends it, and a stopped network can still be tested and saved.")
    if start:
        start_run(preset, config, data)
    elif stop:
        run.worker.stop(wait=STOP_WAIT)
        st.rerun()
    elif pause:
        (run.worker.resume if paused else run.worker.pause)()
        st.rerun()


# -- the live view ---------------------------------------------------------------

def ordinal(n):
    """1st, 2nd, 3rd, 4th, ... 11th, 12th, 13th, ... 21st."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def progress_line(config, snap):
    """e.g. 'Training · Epoch 1.4/2 · dev accuracy 95.2%'."""
    latest = snap.latest
    state = STATE_WORDS[snap.ended_as or snap.state]  # 'Stopped' at once, while it measures accuracy
    if snap.queue_position:
        state = f"Waiting: {ordinal(snap.queue_position)} in line"
    if config.epochs:
        where = f"Epoch {latest.epoch if latest else 0:.1f}/{config.epochs}"
    else:
        where = f"Iteration {latest.step if latest else 0}/{config.iterations}"
    dev = snap.dev_accuracy
    return f"{state} · {where} · dev accuracy {'not measured yet' if dev is None else f'{dev:.1%}'}"


def speed_line(snap):
    latest = snap.latest
    if snap.state == WAITING:
        return (f"At most {MAX_RUNNING} runs train at once on this server, so that each stays quick; "
                "yours starts as soon as one ends.")
    if latest is None:
        return "Preparing the data..."
    left = latest.seconds / latest.step * (latest.total_steps - latest.step)
    time_left = "" if snap.ended_as else f" · about {left:.0f} s left"
    return f"{latest.samples_per_second:,.0f} images/s · {latest.seconds:.1f} s of training{time_left}"


def show_progress(run, snap):
    """The progress box, whose text holds still once training has stopped,
    then how the run ended."""
    with st.container(key="train-progress", border=True):
        st.markdown(f"**{progress_line(run.config, snap)}**")
        latest = snap.latest
        st.progress(latest.step / latest.total_steps if latest else 0.0)
        st.caption(f"{speed_line(snap)}  \n{run.label}")
    if snap.state == EVALUATING:
        st.caption("Measuring its accuracy on every training and test digit...")
    if snap.ended_as in (DIVERGED, FAILED):
        st.error(snap.message)
    elif snap.ended_as == ABANDONED:
        st.warning(snap.message)
    elif snap.ended_as == STOPPED:
        st.info(f"{snap.message} A stopped network can still be tested and saved.")


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


def run_curves(run, snap):
    """The run's learning curves, computed once for a run that has ended."""
    if run.curves is not None:
        return run.curves
    curves = curves_frame(run.label, snap.history)
    if snap.ended:
        run.curves = curves
    return curves


def run_colours(runs):
    """One colour per run, kept as long as the run is (the palette cycles)."""
    return {run.label: PALETTE[(run.number - 1) % len(PALETTE)] for run in runs}


def scale(styles):
    return {"domain": list(styles), "range": list(styles.values())}


def curves_spec(title, subtitle, x, colours, series, y, styles=None):
    """A Vega-Lite line chart of some curve columns (`series`), one line per
    run and column; `styles`: {channel: {column: style}} tells the columns apart.

    Plain Vega-Lite rather than Altair: these charts are redrawn every
    second, and Altair's schema checks cost far more than drawing them."""
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


def show_charts(frame, x, colours):
    loss, accuracy, learning_rate = st.columns(3)
    loss.vega_lite_chart(frame, curves_spec(
        "Loss", "faint: each step; bold: epoch average", x, colours, ["loss", "epoch_loss"],
        {"title": "loss (log scale)", "scale": {"type": "log"}},
        {"opacity": {"loss": 0.35, "epoch_loss": 1}, "strokeWidth": {"loss": 1, "epoch_loss": 3}}), width="stretch")
    accuracy.vega_lite_chart(frame, curves_spec(
        "Accuracy", "solid: dev set; dashed: training batches", x, colours, ["dev_accuracy", "train_accuracy"],
        {"title": "accuracy", "axis": {"format": "%"}, "scale": {"zero": False}},
        {"strokeDash": {"dev_accuracy": [1, 0], "train_accuracy": [4, 3]}}), width="stretch")
    learning_rate.vega_lite_chart(frame, curves_spec(
        "Learning rate", "the size of each step", x, colours, ["learning_rate"], {"title": "learning rate"}),
        width="stretch")


def legend(colours):
    """The runs' colours, once for all three charts."""
    entries = [f"<span style='color:{colour};font-size:1.2em'>&#9632;</span>&nbsp;{html.escape(label)}"
               for label, colour in colours.items()]
    st.markdown("<div style='font-size:0.85em'>" + "<br>".join(entries) + "</div>", unsafe_allow_html=True)


def show_curves(current, snap):
    axis_column, compare_column = st.columns([2, 1])
    x = axis_column.radio("Horizontal axis", list(X_AXES), format_func=X_AXES.get, horizontal=True,
                          key="train-x-axis",
                          help="Epochs compare how much data each run saw; seconds compare how long each took.")
    compare = compare_column.toggle("Show earlier runs", True, key="train-compare",
                                    help="Overlay this session's earlier runs, to compare recipes.")
    runs = session_runs() if compare else [current]
    frames = [run_curves(run, snap if run is current else run.worker.snapshot()) for run in runs]
    frames = [frame for frame in frames if not frame.empty]
    if not frames:
        return
    colours = run_colours(runs)
    show_charts(pd.concat(frames, ignore_index=True), x, colours)
    legend(colours)


def card(image, text, colour):
    """A digit enlarged, dark ink on white, framed in `colour`, with `text` beneath."""
    frame, strip = 3, 24
    picture = Image.new("RGB", (CARD + 2 * frame, CARD + 2 * frame + strip), colour)
    picture.paste(Image.fromarray(enlarge(255 - np.asarray(image), CARD)), (frame, frame))
    pen = ImageDraw.Draw(picture)
    pen.rectangle((0, CARD + 2 * frame, CARD + 2 * frame, CARD + 2 * frame + strip), fill="white")
    pen.text((CARD / 2 + frame, CARD + 2 * frame + strip / 2), text, fill=colour, font=FONT, anchor="mm")
    return np.asarray(picture)


def cards(images, texts, colours, columns):
    return tile(np.stack([card(i, t, c) for i, t, c in zip(images, texts, colours)]), columns, gap=4)


def show_dev_grid(grid, view):
    right = view.grid_predictions == grid.labels
    picture = cards(grid.images, [str(p) for p in view.grid_predictions],
                    [RIGHT if ok else WRONG for ok in right], columns=6)
    st.image(picture, output_format="PNG", caption=f"Dev digits as the network reads them at step {view.step}: "
             f"{right.sum()} of {len(right)} right (green), wrong ones in red.")


def show_first_layer(view):
    weights = view.first_layer
    columns = min(len(weights), next((c for c in (8, 5, 6, 4) if len(weights) % c == 0), 8))  # full rows
    picture = tile(np.stack([diverging(w) for w in weights]), columns, gap=1)
    side = weights.shape[1]
    what = ("hidden unit looks for anywhere in the image (28x28 weights)" if side == 28
            else f"convolution filter looks for ({side}x{side} weights)")
    st.image(enlarge(picture, min(480, columns * 60)), output_format="PNG",
             caption=f"First layer: the pattern each {what}. Red: ink here raises the unit, blue: lowers it.")


def show_drawing(view):
    if view.drawing is None:
        st.caption("Draw a digit on the Draw page and come back: you will see the network read it as it learns.")
        return
    probabilities = view.drawing_probabilities
    digit = int(probabilities.argmax())
    ink_on_white = 255 - (np.clip(view.drawing, 0, 1) * 255).astype(np.uint8)
    st.image(enlarge(ink_on_white, 112), output_format="PNG",
             caption=f"Your drawing: read as {digit} ({probabilities[digit]:.0%} sure)")
    chart = pd.DataFrame({"probability": probabilities}, index=[str(d) for d in range(10)])
    st.bar_chart(chart, height=150, x_label="digit", y_label="probability")


def show_network_view(snap):
    view = snap.view
    if view is None or snap.grid is None:
        return
    grid_column, weights_column, drawing_column = st.columns([1.3, 1.2, 0.8], gap="medium")
    with grid_column:
        show_dev_grid(snap.grid, view)
    with weights_column:
        show_first_layer(view)
    with drawing_column:
        show_drawing(view)


def refresh_every(snap):
    """Seconds between redraws of the live view; None once the run is over."""
    if snap is None or snap.ended:
        return None
    return REFRESH_SECONDS if snap.state in (RUNNING, EVALUATING) else IDLE_REFRESH_SECONDS


def live_view(refresh):
    """Progress, learning curves and what the network sees, from the worker's
    latest snapshot (also the heartbeat that keeps the run alive)."""
    run = current_run()
    if run is None:
        with st.container(key="train-progress", border=True):
            st.markdown("**No run yet.** Choose a recipe and press **Start**: the curves, the digits the network "
                        "reads and its first layer's weights appear here and change as it learns.")
        return
    snap = run.worker.snapshot()
    if refresh_every(snap) != refresh:
        st.rerun()  # the whole page catches up (buttons, results, saving) and sets the new pace
    run.worker.set_drawing(st.session_state.get(LAST_DRAWING))
    show_progress(run, snap)
    show_curves(run, snap)
    show_network_view(snap)


# -- results --------------------------------------------------------------------

def percent(value):
    return "—" if value is None else f"{value:.1%}"


def comparison_table(runs):
    rows = []
    for run in runs:
        snap = run.worker.snapshot()
        result = snap.outcome.result if snap.outcome else {}
        rows.append({"run": run.label, "state": STATE_WORDS[snap.ended_as or snap.state],
                     "steps": len(snap.history), "seconds": round(snap.latest.seconds, 1) if snap.latest else 0,
                     "train": percent(result.get("train_accuracy")), "dev": percent(result.get("dev_accuracy")),
                     "test": percent(result.get("test_accuracy"))})
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch")


def show_scores(outcome, state):
    result = outcome.result
    columns = st.columns(3)
    test_name = "Test accuracy" if outcome.held_out_name == "test" else "Accuracy on dev"
    columns[0].metric(test_name, percent(result["test_accuracy"] if outcome.held_out_name == "test"
                                         else result["dev_accuracy"]),
                      help="On digits the network never trained on: the honest measure.")
    columns[1].metric("Dev accuracy", percent(result["dev_accuracy"]), help="Measured while training.")
    columns[2].metric("Training accuracy", percent(result["train_accuracy"]),
                      help="On the digits it learned from. Much higher than test accuracy means overfitting.")
    if state != FINISHED:
        st.caption(f"This run {STATE_WORDS[state].lower()} before its last step; "
                   "these are the scores of the network as it was then.")


def per_class_chart(evaluation):
    frame = pd.DataFrame({"digit": [str(d) for d in range(10)], "accuracy": evaluation["per_class_accuracy"]})
    return alt.Chart(frame, title="Accuracy for each digit").mark_bar(clip=True).encode(
        x=alt.X("digit:N", axis=alt.Axis(labelAngle=0)),
        y=alt.Y("accuracy:Q", axis=alt.Axis(format="%"), scale=alt.Scale(zero=False, domain=[
            max(0.0, min(evaluation["per_class_accuracy"]) - 0.05), 1])),
        tooltip=["digit", alt.Tooltip("accuracy:Q", format=".1%")]).properties(width=360, height=300)


def confusion_chart(counts):
    frame = pd.DataFrame([(str(t), str(p), int(counts[t][p])) for t in range(10) for p in range(10)],
                         columns=["true digit", "read as", "count"])
    base = alt.Chart(frame, title="Confusion matrix: mistakes off the diagonal", width=360, height=300).encode(
        x=alt.X("read as:O", axis=alt.Axis(orient="top", labelAngle=0)),
        y=alt.Y("true digit:O", axis=alt.Axis(labelOverlap=False)))
    cells = base.mark_rect().encode(color=alt.Color("count:Q", scale=alt.Scale(type="symlog", scheme="blues"),
                                                    legend=None), tooltip=["true digit", "read as", "count"])
    labels = base.mark_text(fontSize=10).encode(
        text=alt.condition(alt.datum.count > 0, "count:Q", alt.value("")),
        color=alt.condition(alt.datum.count > 100, alt.value("white"), alt.value("black")))
    return cells + labels


def show_cell(outcome):
    """The held-out digits behind one cell of the confusion matrix."""
    counts = np.array(outcome.evaluation["confusion_matrix"])
    mistakes = counts - np.diag(np.diag(counts))
    worst_true, worst_read = np.unravel_index(mistakes.argmax(), mistakes.shape)
    st.markdown("**The digits behind a cell of the matrix**")
    left, right, _ = st.columns([1, 1, 3])
    true = left.selectbox("True digit", range(10), index=int(worst_true), key="cell-true")
    read = right.selectbox("Read as", range(10), index=int(worst_read), key="cell-read")
    predictions = outcome.probabilities.argmax(axis=1)
    chosen = np.flatnonzero((outcome.held_out.labels == true) & (predictions == read))
    if not len(chosen):
        st.caption(f"No {outcome.held_out_name} digit that is a {true} was read as {read}.")
        return
    shown = chosen[:48]
    confidence = outcome.probabilities[shown, read]
    st.image(cards(outcome.held_out.images[shown], [f"{c:.0%}" for c in confidence],
                   [RIGHT if true == read else WRONG] * len(shown), columns=12), output_format="PNG",
             caption=f"{len(chosen)} {outcome.held_out_name} digits that are {true}s read as {read}"
                     f"{f' (the first {len(shown)})' if len(chosen) > len(shown) else ''}, with the network's "
                     "confidence.")


def show_most_confident_mistakes(outcome):
    wrong = outcome.evaluation.get("most_confident_wrong", [])
    if not wrong:
        return
    predictions = outcome.probabilities[wrong].argmax(axis=1)
    texts = [f"{p} {outcome.probabilities[i, p]:.0%}" for i, p in zip(wrong, predictions)]
    st.markdown("**Its most confident mistakes**")
    st.image(cards(outcome.held_out.images[wrong], texts, [WRONG] * len(wrong), columns=12), output_format="PNG",
             caption="The network's most confident mistakes, each with what it read and how sure it was. "
                     "Some are badly written; some are plain errors.")


def show_outcome(snap):
    outcome = snap.outcome
    show_scores(outcome, snap.state)
    if outcome.evaluation is None:
        return
    st.markdown(f"#### Where it goes wrong ({len(outcome.held_out):,} {outcome.held_out_name} digits)")
    left, right = st.columns(2)
    left.altair_chart(confusion_chart(outcome.evaluation["confusion_matrix"]), width="content")
    right.altair_chart(per_class_chart(outcome.evaluation), width="content")
    show_cell(outcome)
    show_most_confident_mistakes(outcome)


def save_network(net, metadata, name, overwrite):
    """Save under a user's name in data/models/, or say why not."""
    try:
        name = validate_model_name(name)
        path = save_model(net, model_path(name), metadata, overwrite=overwrite)
    except FileExistsError:
        st.warning(f"A model named “{name}” exists already. Choose another name, or tick "
                   "“Replace a saved model of the same name”.")
    except (ValueError, OSError) as error:
        st.error(f"Cannot save: {error}")
    else:
        st.session_state[SAVED_PATH] = path
        st.success(f"Saved as “{name}”. It is in the Draw page's model picker now.")


def offer_download():
    path = st.session_state.get(SAVED_PATH)
    if path is not None and path.exists():
        st.download_button(f"Download “{path.stem}”", path.read_bytes(), file_name=path.name,
                           mime="application/octet-stream", key="download-model",
                           help="The model file (weights and how they were trained), to keep or share.")


def save_section(run, snap):
    st.subheader("Keep this model")
    st.caption(f"Saving {run.label}. Saved models appear at once in the Draw page's model picker.")
    name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    name = name_column.text_input("Model name", key="model-name", placeholder="e.g. fast demo, 97%",
                                  help="Letters, digits, spaces, '_', '-' and '.'.")
    overwrite = st.checkbox("Replace a saved model of the same name", key="model-overwrite")
    if button_column.button("Save model", key="save-model", type="primary", width="stretch"):
        save_network(run.worker.finished_network(), snap.outcome.metadata, name, overwrite)
    offer_download()


def upload_section():
    with st.expander("Upload a model file"):
        upload = st.file_uploader("A model file (.npz) saved by this app", type=["npz"], key="upload-model")
        name = st.text_input("Save it as", upload.name.rsplit(".", 1)[0] if upload else "",
                             key="upload-model-name")
        overwrite = st.checkbox("Replace a saved model of the same name", key="upload-overwrite")
        if st.button("Save uploaded model", key="save-upload", disabled=upload is None):
            try:
                net = load_model(upload.getvalue(), label=upload.name)
            except ModelFileError as error:
                st.error(str(error))
            else:
                save_network(net, net.metadata, name, overwrite)


def results_section():
    ended = [run for run in session_runs() if run.worker.done]
    if not ended:
        return
    judged = {run.number: run for run in ended if run.worker.snapshot().outcome is not None}
    st.divider()
    st.header("Results")
    comparison_table(session_runs())
    if not judged:
        return
    numbers = list(judged)[::-1]  # the latest first
    if len(numbers) > 1:
        # Keyed by the latest run, so that a new run's results show at once.
        number = st.selectbox("Run", numbers, format_func=lambda n: judged[n].label, key=f"result-run-{numbers[0]}",
                              help="Look at any run of this session, and keep the best.")
    else:
        number = numbers[0]
    run = judged[number]
    snap = run.worker.snapshot()
    show_outcome(snap)
    save_section(run, snap)


# -- the page -------------------------------------------------------------------

st.title("Train a network")
st.caption("Pick a recipe and press Start to watch the network learn: the loss falls, the accuracy climbs and "
           "the first layer's weights turn into stroke detectors. Pause or stop it whenever you like, compare "
           "runs, and keep the best one for the Draw page.")

data_column, recipe_column, buttons_column = st.columns([1, 1.4, 1], gap="large")
with data_column:
    data = choose_data()
with recipe_column:
    preset = choose_preset()
config, problem = recipe(preset, data)  # Custom's controls go here, the whole width of the page
with recipe_column:
    show_recipe(config, problem)
with buttons_column:
    control_buttons(preset, config, problem, data)
run = current_run()
refresh = refresh_every(run.worker.snapshot() if run else None)
st.fragment(run_every=refresh)(live_view)(refresh)
results_section()
upload_section()
