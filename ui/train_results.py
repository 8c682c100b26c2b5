"""The Train page's results: every run compared, then one run's scores, its
confusion matrix and the digits behind its mistakes."""

import numpy as np
import pandas as pd
import streamlit as st

from network.worker import FINISHED
from ui.cards import RIGHT, WRONG, cards
from ui.charts import CELL, chosen_cell, confusion_chart, large_labels, per_class_chart
from ui.presenter import presenting
from ui.train_runs import STATE_WORDS, keep_networks, session_runs
from ui.train_saving import save_section
from ui.words import a_digit


def percent(value):
    return "—" if value is None else f"{value:.1%}"


def comparison_table(runs):
    rows = []
    for run in runs:
        snap = run.worker.snapshot()
        result = snap.outcome.result if snap.outcome else {}
        latest = snap.latest
        rows.append({"run": run.label, "state": STATE_WORDS[snap.ended_as or snap.state],
                     "steps": latest.step if latest else 0, "seconds": round(latest.seconds, 1) if latest else 0,
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


def show_cell(outcome, true, read):
    """The held-out digits behind one cell of the confusion matrix."""
    predictions = outcome.probabilities.argmax(axis=1)
    chosen = np.flatnonzero((outcome.held_out.labels == true) & (predictions == read))
    st.markdown(f"**The {outcome.held_out_name} digits that are {true}s read as {read}** "
                "(click another cell of the matrix to see its digits)")
    if not len(chosen):
        st.caption(f"No {outcome.held_out_name} digit that is {a_digit(true)} was read as {read}.")
        return
    shown = chosen[:48]
    confidence = outcome.probabilities[shown, read]
    st.image(cards(outcome.held_out.images[shown], [f"{c:.0%}" for c in confidence],
                   [RIGHT if true == read else WRONG] * len(shown), columns=12), output_format="PNG",
             caption=f"{len(chosen)} digits{f' (the first {len(shown)})' if len(chosen) > len(shown) else ''}, "
                     "with the network's confidence.")


def mistake_text(true, read, confidence):
    """A mistake's card: what the digit is, what the network read, how sure it was."""
    return f"true {true}\nread as {read}\n{confidence:.0%}"


def show_most_confident_mistakes(outcome):
    wrong = outcome.evaluation.get("most_confident_wrong", [])
    if not wrong:
        return
    predictions = outcome.probabilities[wrong].argmax(axis=1)
    texts = [mistake_text(outcome.held_out.labels[i], p, outcome.probabilities[i, p])
             for i, p in zip(wrong, predictions)]
    st.markdown("**Its most confident mistakes**")
    st.image(cards(outcome.held_out.images[wrong], texts, [WRONG] * len(wrong), columns=12), output_format="PNG",
             caption="The network's most confident mistakes: each digit's true label, what the network read, "
                     "and how sure it was. Some are badly written; some are plain errors.")


def show_outcome(snap, number):
    outcome = snap.outcome
    show_scores(outcome, snap.state)
    if outcome.evaluation is None:
        return
    st.markdown(f"#### Where it goes wrong ({len(outcome.held_out):,} {outcome.held_out_name} digits)")
    left, right = st.columns(2)
    counts = outcome.evaluation["confusion_matrix"]
    big = presenting()
    frame, spec = confusion_chart(counts)
    event = left.vega_lite_chart(frame, large_labels(spec) if big else spec, width="content", on_select="rerun",
                                 selection_mode=CELL, key=f"confusion-{number}")
    frame, spec = per_class_chart(outcome.evaluation["per_class_accuracy"])
    right.vega_lite_chart(frame, large_labels(spec) if big else spec, width="content")
    show_cell(outcome, *chosen_cell(getattr(event, "selection", None), counts))
    show_most_confident_mistakes(outcome)


def results_section():
    keep_networks(session_runs())
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
    show_outcome(snap, number)
    save_section(run, snap)
