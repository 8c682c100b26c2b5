"""The Train page's runs: each session's list of runs, starting one, and the
Start / Pause / Stop buttons that steer it.

Training never runs in the page's script: a worker thread per run
(network/worker.py) takes the steps; the page starts, pauses and stops it.
"""

import hashlib
import secrets
from dataclasses import dataclass

import pandas as pd
import streamlit as st

from network.budgets import DEFAULT_MAX_PARAMS
from network.errors import UserError
from network.training import TrainConfig, total_steps
from network.worker import ABANDONED, DIVERGED, FAILED, FINISHED, PAUSED, RUNNING, STOPPED, WAITING, TrainingWorker
from ui.mnist import shared_mnist
from ui.session import LAST_DRAWING

WATCH, SLOW, FULL = "Watch", "Slow motion", "Full speed"
PACES = (WATCH, SLOW, FULL)
WATCH_SECONDS = 25.0    # a paced run lasts about this long: time to see it learn
SLOW_MOTION_STEP = 0.25  # seconds per step in slow motion
SPEED = "train-speed"   # the speed control's key
CONFIRM_START = "train_confirm_start"  # session state: Start was pressed while a run was paused
STOP_WAIT = 1.0         # seconds Stop waits for the step in progress, to show the run stopped at once
MAX_RUNS_KEPT = 6       # runs of a session kept for comparison
MAX_WEIGHTS_KEPT = DEFAULT_MAX_PARAMS  # weights a session's finished runs keep, newest first (20 MB)
RUNS = "train_runs"     # session state: this session's runs
VISITOR = "train_visitor"  # session state: this session's id, where the browser sends no cookie
XSRF_COOKIE = "_streamlit_xsrf"
MNIST = "MNIST"         # the data choice that means MNIST (else a CSV's Digits)
PRESET_NAMES = {"fast": "Fast demo", "seed": "Seed", "default": "Default", "custom": "Custom"}
STATE_WORDS = {WAITING: "Waiting", RUNNING: "Training", PAUSED: "Paused", FINISHED: "Finished", STOPPED: "Stopped",
               DIVERGED: "Diverged", ABANDONED: "Stopped", FAILED: "Failed"}


@dataclass
class Run:
    """One run of this session: its worker and the name it has in legends."""

    number: int
    label: str
    config: TrainConfig
    worker: TrainingWorker
    total_steps: int = 0                # the steps the run will take, if it runs to the end
    curves: pd.DataFrame | None = None  # kept once the run has ended: it no longer changes


def session_runs():
    return st.session_state.setdefault(RUNS, [])


def keep_networks(runs):
    """A session's finished runs keep their curves and results, and their
    networks (to save) newest first while together they hold at most
    MAX_WEIGHTS_KEPT weights: six classroom runs keep all six, six of the
    biggest runs allowed keep the latest only."""
    kept = 0
    for run in reversed(runs):
        weights = run.worker.weights_kept
        if kept and kept + weights > MAX_WEIGHTS_KEPT:
            run.worker.let_network_go()
        else:
            kept += weights


def current_run():
    runs = session_runs()
    return runs[-1] if runs else None


def training_source(data):
    """(labelled digits, test digits or None, description) to train on."""
    if data is MNIST:
        mnist = shared_mnist()
        return mnist.train, mnist.test, f"MNIST ({mnist.source})"
    return data, None, data.source


def visitor():
    """Who starts a run, for the one-run-per-visitor rule: the browser (its
    XSRF cookie, shared by all its tabs), else this session."""
    try:
        cookie = st.context.cookies.get(XSRF_COOKIE)
    except (AttributeError, RuntimeError):
        cookie = None
    if isinstance(cookie, str) and cookie:
        return "browser " + hashlib.sha256(cookie.encode()).hexdigest()[:16]
    return "session " + st.session_state.setdefault(VISITOR, secrets.token_hex(8))


def start_run(preset, config, data):
    """Stop the session's live run, if any, and start a new one."""
    try:
        labelled, test, source = training_source(data)
        worker = TrainingWorker(config, labelled, test, source, drawing=st.session_state.get(LAST_DRAWING),
                                owner=visitor())
    except UserError as error:
        st.error(f"Cannot start: {error}")
        return
    runs = session_runs()
    if runs:
        runs[-1].worker.stop()  # never two runs per session
    number = runs[-1].number + 1 if runs else 1
    label = f"Run {number} · {PRESET_NAMES[preset]} · {config.describe()}"
    n_train = 10 * config.per_class if config.per_class else max(1, len(labelled) - config.dev_size)
    run = Run(number, label, config, worker, total_steps(config, n_train))
    worker.set_pace(seconds_per_step(st.session_state.get(SPEED) or WATCH, run))
    runs.append(run)
    worker.start()
    del runs[:-MAX_RUNS_KEPT]
    keep_networks(runs)
    st.rerun()


def control_buttons(preset, config, problem, data):
    """Start, Pause/Resume and Stop; the pace; one step or one epoch while paused."""
    run = current_run()
    live = run is not None and not run.worker.done
    paused = live and run.worker.paused
    # No help= on these buttons: Streamlit then renders each button twice
    # (one hidden), which breaks `.st-key-train-start button` in browser tests.
    with st.container(horizontal=True):
        start = st.button("Start", key="train-start", type="secondary" if paused else "primary",
                          disabled=bool(problem) or config is None or data is None)
        pause = st.button("Resume" if paused else "Pause", key="train-pause", disabled=not live,
                          type="primary" if paused else "secondary")
        stop = st.button("Stop", key="train-stop", disabled=not live)
    pace = choose_pace()
    one_step = one_epoch = False
    if paused:
        with st.container(horizontal=True):
            one_step = st.button("One step", key="train-one-step")
            one_epoch = st.button("One epoch", key="train-one-epoch")
    st.caption("Start trains a new network (ending any run in progress). Pause holds it where it is; "
               "Stop ends it, and a stopped network can still be tested and saved.")
    if live:
        run.worker.set_pace(seconds_per_step(pace, run))
    if start and paused:
        st.session_state[CONFIRM_START] = True
    elif start:
        start_run(preset, config, data)
    elif stop:
        run.worker.stop(wait=STOP_WAIT)
        st.rerun()
    elif pause:
        (run.worker.resume if paused else run.worker.pause)()
        st.rerun()
    elif one_step or one_epoch:
        run.worker.step(1 if one_step else epoch_steps(run))
        st.rerun()
    if paused and st.session_state.get(CONFIRM_START):
        confirm_start(run, preset, config, data)


def confirm_start(run, preset, config, data):
    """A paused run is not thrown away by one click on Start."""
    with st.container(key="train-confirm", border=True):
        st.warning(f"{run.label} is paused. Start a new run and end this one?")
        with st.container(horizontal=True):
            yes = st.button("Start a new run", key="train-start-confirm", type="primary")
            no = st.button("Keep the paused run", key="train-start-cancel")
    if yes or no:
        st.session_state.pop(CONFIRM_START, None)
    if yes:
        start_run(preset, config, data)
    elif no:
        st.rerun()


def choose_pace():
    st.session_state.setdefault(SPEED, WATCH)
    return st.radio(
        "Speed", list(PACES), key=SPEED, horizontal=True, help=(
            "Watch: the run is spread over about half a minute, so that a class sees the curves, the weights "
            "and the digits change (a run that takes longer anyway is not slowed). Slow motion: a few steps a "
            "second. Full speed: as fast as the server can. Pausing a run gives the One step and One epoch "
            "buttons. A run whose page nobody looks at always goes at full speed.")) or WATCH


def seconds_per_step(pace, run):
    """The least time each step takes at this pace (0: full speed)."""
    if pace == SLOW:
        return SLOW_MOTION_STEP
    if pace == WATCH and run.total_steps:
        return WATCH_SECONDS / run.total_steps
    return 0.0


def epoch_steps(run):
    """Steps in one epoch of the run (1 for full-batch gradient descent)."""
    latest = run.worker.snapshot().latest
    return max(1, round(latest.step / latest.epoch)) if latest else 1
