"""The Inside page's pictures and tables of a network's numbers: one small
card per unit (wrapping on a phone), red/blue heat maps of weight matrices
whose cells give their number on hover, and tables with every number."""

import altair as alt
import numpy as np
import pandas as pd
import streamlit as st

from network.preprocess import to_uint8
from network.visualise import enlarge, tile

MAX_UNITS = 10          # hidden units shown per layer; a wider layer shows its largest
CARD = 112              # width of a unit's pictures, in screen pixels: two fit side by side on a phone
FUNCTIONS = {"relu": r"\mathrm{ReLU}", "leaky_relu": r"\mathrm{LeakyReLU}", "sigmoid": r"\sigma", "tanh": r"\tanh"}
NAMES = {"relu": "ReLU", "leaky_relu": "leaky ReLU", "sigmoid": "sigmoid", "tanh": "tanh"}


def article(digit):
    return "an" if digit == 8 else "a"


def sentence(words):
    """'2, 5 and 8' from [2, 5, 8]."""
    words = [str(w) for w in words]
    return ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else "".join(words)


def shown_units(values):
    """Indices of the units to show: all of a small layer, else the
    MAX_UNITS largest (by size, sign aside), largest first."""
    values = np.abs(np.asarray(values).ravel())
    return np.arange(values.size) if values.size <= MAX_UNITS else np.argsort(-values, kind="stable")[:MAX_UNITS]


def which_units(units, n, what="active"):
    return "" if len(units) == n else f" Showing the {len(units)} most {what} of its {n} units."


def cards(pictures):
    """One small picture per unit, side by side, wrapping onto new rows on a
    narrow screen; a unit with several pictures has them one above the other."""
    with st.container(horizontal=True, gap="small"):
        for images, caption in pictures:
            # RGB, each in a thin grey frame: a white (zero) edge stays visible.
            images = [np.pad(image if image.ndim == 3 else np.repeat(to_uint8(image)[..., None], 3, axis=2),
                             ((1, 1), (1, 1), (0, 0)), constant_values=200) for image in images]
            st.image(enlarge(tile(np.stack(images), columns=1, gap=1), CARD), caption=caption,
                     output_format="PNG", width=CARD)


def heat_map(matrix, rows, columns, row_name, column_name, title):
    """A weight matrix (or its gradient) as red/blue cells; hovering gives each number."""
    limit = float(np.abs(matrix[np.ix_(rows, columns)]).max()) or 1.0
    frame = pd.DataFrame([{row_name: int(r), column_name: int(c), title: float(matrix[r, c])}
                          for r in rows for c in columns])
    chart = alt.Chart(frame).mark_rect().encode(
        x=alt.X(f"{column_name}:O", sort=[int(c) for c in columns]),
        y=alt.Y(f"{row_name}:O", sort=[int(r) for r in rows]),
        color=alt.Color(f"{title}:Q", scale=alt.Scale(scheme="redblue", reverse=True, domain=[-limit, limit])),
        tooltip=[row_name, column_name, alt.Tooltip(f"{title}:Q", format="+.4f")],
    ).properties(height=min(360, 24 * len(rows) + 40))
    st.altair_chart(chart, width="stretch")


def table(columns, index):
    """Numbers per unit, one row per unit, four significant digits."""
    frame = pd.DataFrame(columns, index=index)
    st.dataframe(frame, width="stretch",
                 column_config={name: st.column_config.NumberColumn(format="%.4g") for name in frame.columns})


def unit_names(units, output):
    return [f"digit {u}" if output else f"unit {u}" for u in units]
