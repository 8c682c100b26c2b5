"""The Train page's "Learn from drawings": a trained model learns further
from people's drawings (network/finetune.py), measured honestly on
drawings by other writers, and is kept as a new model."""

import pandas as pd
import streamlit as st

from network.database import DatabaseError
from network.drawing_sets import MIN_HELD_OUT, from_store, split_by_writer
from network.errors import UserError
from network.finetune_worker import FinetuneWorker
from network.modelfile import load_model, model_path, save_model, validate_model_name
from network.store import open_store
from network.visualise import enlarge
from ui.models import model_choices
from ui.train_runs import shared_mnist, visitor

DRAWINGS = "People's drawings"
WORKER = "train_finetune"       # session state: (FinetuneWorker, model label, drawings source)
SOURCES = {"mine": "Corrections (\"Was I wrong?\" outside classes)", "class": "A class's drawings",
           "all": "Every drawing kept"}
STATE_WORDS = {"waiting": "Waiting for a free core (a visitor runs one thing at a time)",
               "measuring": "Measuring the model before", "training": "Learning", "finished": "Finished",
               "stopped": "Stopped", "failed": "Failed"}
MAX_SHOWN = 24                  # drawings now read right, shown


def finetune_section():
    st.subheader("Learn from drawings")
    st.caption("The model trains a little more on MNIST mixed with people's drawings. Drawings are split by "
               "who drew them: the network learns from some people's and is judged on the others', so the "
               "gain you see is what a new person would get. MNIST's test set shows whether it forgot anything.")
    models = model_choices()
    left, right = st.columns(2)
    label = left.selectbox("Model to start from", list(models), key="finetune-model",
                           help="It is never changed: the result is saved as a new model.")
    which = right.radio("Which drawings", list(SOURCES), format_func=SOURCES.get, key="finetune-drawings")
    source = which
    if which == "class":
        source = f"class:{right.text_input('Class code', key='finetune-class', max_chars=8)}"
    try:
        drawings = from_store(open_store(), source)
    except (UserError, DatabaseError) as error:
        st.info(str(error))
        return
    split = split_by_writer(drawings)
    counts = pd.DataFrame({"to learn from": split.train.counts(), "held out": split.held_out.counts()},
                          index=[str(d) for d in range(10)]).T
    st.dataframe(counts, key="finetune-counts")
    st.caption(f"{len(drawings)} drawings, split {split.how}.")
    if split.shortfall():
        st.warning(f"Only {len(split.held_out)} held-out drawings: no gain can be claimed from fewer than "
                   f"{MIN_HELD_OUT}. {split.shortfall()} more drawings by other people are needed.")
    if st.button("Start learning from drawings", key="finetune-start", type="primary"):
        start(models[label], label, drawings, source)
    running = WORKER in st.session_state and st.session_state[WORKER][0].snapshot().state not in (
        "finished", "stopped", "failed")
    st.fragment(run_every=1.0 if running else None)(progress_view)(running)


def start(path, label, drawings, source):
    previous = st.session_state.get(WORKER)
    if previous:
        previous[0].stop()
    try:
        net = load_model(path)   # a fresh copy: the file and the Draw page's model stay as they are
        worker = FinetuneWorker(net, drawings, shared_mnist(), owner=visitor()).start()
    except UserError as error:
        st.error(f"Cannot start: {error}")
        return
    st.session_state[WORKER] = (worker, label, source)


def progress_view(was_running):
    if WORKER not in st.session_state:
        return
    worker, label, source = st.session_state[WORKER]
    snap = worker.snapshot()
    ended = snap.state in ("finished", "stopped", "failed")
    if was_running and ended:
        st.rerun()     # the whole page: the refresh stops, the results appear
    latest = snap.history[-1] if snap.history else None
    step = f" · step {latest.step}/{latest.total_steps}" if latest else ""
    with st.container(key="finetune-progress"):
        st.markdown(f"**{STATE_WORDS[snap.state]}**{step} · from {label}")
    if snap.message:
        st.error(snap.message)
    measured = [p for p in snap.history if p.dev_accuracy is not None]
    if measured:
        curves = pd.DataFrame({"held-out drawings": [p.held_out_accuracy for p in measured],
                               "MNIST dev": [p.dev_accuracy for p in measured]},
                              index=pd.Index([p.step for p in measured], name="step"))
        st.line_chart(curves, y_label="accuracy", height=260)
    if ended and snap.run is not None and snap.run.after is not None:
        results(worker, snap.run, label, source)


def results(worker, run, label, source):
    report = run.report()
    st.markdown(f"**{run.verdict()}**")
    held = "-" if report["held_out_needed"] else None
    table = pd.DataFrame({"before": [held or f"{run.before.held_out:.2%}", f"{run.before.mnist_test:.2%}"],
                          "after": [held or f"{run.after.held_out:.2%}", f"{run.after.mnist_test:.2%}"]},
                         index=[f"held-out drawings ({report['held_out_count']})", "MNIST test (10,000)"])
    st.table(table)
    fixed = run.now_right()
    if len(fixed):
        st.markdown(f"Held-out drawings it now reads right ({len(fixed)}; it now gets {report['now_wrong']} wrong "
                    "that it read right before):")
        held_out = run.split.held_out.digits
        columns = st.columns(8)
        for n, i in enumerate(fixed[:MAX_SHOWN]):
            columns[n % 8].image(enlarge(held_out.images[i], 84), output_format="PNG",
                                 caption=f"{held_out.labels[i]} (was {run.before.held_out_predicted[i]})")
    name_column, button_column = st.columns([3, 1], vertical_alignment="bottom")
    name = name_column.text_input("Save as", value=f"{label.split(' ')[0]} + drawings", key="finetune-name")
    if button_column.button("Save model", key="finetune-save", width="stretch"):
        try:
            path = model_path(validate_model_name(name))
            save_model(worker.net, path, run.metadata(label, source), overwrite=False)
        except (UserError, FileExistsError) as error:
            st.error(f"Not saved: {error}")
        else:
            st.success(f"Saved as “{name}”: pick it on the Draw page.")
