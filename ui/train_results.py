"""The Train page's results: every run compared, then one run's scores, its
confusion matrix and the digits behind its mistakes."""

import numpy as np
import pandas as pd
import streamlit as st

from network.worker import FINISHED
from ui.cards import RIGHT, WRONG, cards
from ui.charts import confusion_chart, per_class_chart
from ui.train_runs import STATE_WORDS, session_runs
from ui.train_saving import save_section


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
    left.vega_lite_chart(*confusion_chart(outcome.evaluation["confusion_matrix"]), width="content")
    right.vega_lite_chart(*per_class_chart(outcome.evaluation["per_class_accuracy"]), width="content")
    show_cell(outcome)
    show_most_confident_mistakes(outcome)


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
