"""The Train page's live view: progress, learning curves and what the
network sees, redrawn from the worker's latest snapshot in a fragment that
reruns every second while the run lives (also the run's heartbeat).

The page never runs a network that is still training; the worker computes
what the page shows about it.
"""

import html

import numpy as np
import pandas as pd
import streamlit as st

from network.run_queue import MAX_RUNNING
from network.visualise import diverging, enlarge, png, tile
from network.worker import ABANDONED, DIVERGED, EVALUATING, FAILED, RUNNING, STOPPED, WAITING
from ui.cards import RIGHT, WRONG, cards
from ui.charts import X_AXES, accuracy_spec, curves_frame, large_labels, learning_rate_spec, loss_spec, run_colour
from ui.presenter import presenting
from ui.session import LAST_DRAWING
from ui.train_runs import STATE_WORDS, current_run, session_runs
from ui.words import ordinal

# How often the live view redraws.  Every redraw costs the server a script
# thread and its messages, which compete with the training threads for
# Python's GIL: with ten browser sessions, eight runs waiting in line that
# redrew every second slowed the two training runs forty-fold.
REFRESH_SECONDS = 1.0       # while the network trains
IDLE_REFRESH_SECONDS = 3.0  # waiting in line or paused: only the queue position and the heartbeat


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
    if snap.pace:  # a paced run takes at least its pace per step
        left = max(left, snap.pace * (latest.total_steps - latest.step))
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
    return {run.label: run_colour(run.number) for run in runs}


def show_charts(frame, x, colours):
    big = presenting()
    for column, spec in zip(st.columns(3), (loss_spec, accuracy_spec, learning_rate_spec)):
        chart = spec(x, colours)
        column.vega_lite_chart(frame, large_labels(chart) if big else chart, width="stretch")


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


def show_dev_grid(grid, view):
    right = view.grid_predictions == grid.labels
    picture = cards(grid.images, [str(p) for p in view.grid_predictions],
                    [RIGHT if ok else WRONG for ok in right], columns=6)
    st.image(png(picture), caption=f"Dev digits as the network reads them at step {view.step}: "
             f"{right.sum()} of {len(right)} right (green), wrong ones in red.")


def show_first_layer(view):
    weights = view.first_layer
    columns = min(len(weights), next((c for c in (8, 5, 6, 4) if len(weights) % c == 0), 8))  # full rows
    picture = tile(np.stack([diverging(w) for w in weights]), columns, gap=1)
    side = weights.shape[1]
    what = ("hidden unit looks for anywhere in the image (28x28 weights)" if side == 28
            else f"convolution filter looks for ({side}x{side} weights)")
    st.image(png(enlarge(picture, min(480, columns * 60))),
             caption=f"First layer: the pattern each {what}. Red: ink here raises the unit, blue: lowers it.")


def show_drawing(view):
    if view.drawing is None:
        st.caption("Draw a digit on the Draw page and come back: you will see the network read it as it learns.")
        return
    probabilities = view.drawing_probabilities
    digit = int(probabilities.argmax())
    ink_on_white = 255 - (np.clip(view.drawing, 0, 1) * 255).astype(np.uint8)
    st.image(png(enlarge(ink_on_white, 112)),
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
