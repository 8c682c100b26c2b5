"""How much screen the Draw page has: a tiny browser component that reports
its column's width, where it sits and the window's size, so that the canvas
fits a phone, a small laptop and a projector alike.

The canvas component takes a size in pixels and does not shrink with its
column (a 280 px canvas in a 200 px column is cut off), so the page asks the
browser.  The first run, before the browser has answered, uses 280 px; the
component answers once and again whenever the window or the column changes
size (a phone turned, a browser zoomed), which reruns the page.
"""

import numpy as np
import streamlit as st
from PIL import Image

CANVAS_SIDE = 280       # the canvas's size before the browser says more, and the drawing's coordinates
SMALLEST, LARGEST = 160, 440
STACKED_BELOW = 640     # px of window width under which Streamlit stacks columns (measured in Chromium)
ROOM_BELOW_STACKED = 230  # the Clear button and the answer, under the canvas on a narrow screen
ROOM_BELOW_SIDE = 70    # the Clear button, under the canvas when the answer is beside it

_JS = """
export default function ({ parentElement, setStateValue }) {
    const probe = parentElement.querySelector(".viewport-probe");
    let last = "";
    const report = () => {
        const box = probe.getBoundingClientRect();
        const size = { column: Math.round(box.width), top: Math.round(box.top + window.scrollY),
                       width: window.innerWidth, height: window.innerHeight };
        const text = JSON.stringify(size);
        if (text !== last && size.column > 0) { last = text; setStateValue("size", size); }
    };
    let timer = null;
    const later = () => { clearTimeout(timer); timer = setTimeout(report, 150); };
    const observer = new ResizeObserver(later);
    observer.observe(probe);
    window.addEventListener("resize", later);
    later();
    return () => { observer.disconnect(); window.removeEventListener("resize", later); clearTimeout(timer); };
}
"""

_probe = st.components.v2.component("network-viewport", html='<div class="viewport-probe"></div>', js=_JS,
                                    isolate_styles=False)


def reported_size(key: str) -> dict | None:
    """{column, top, width, height} in CSS pixels as the browser last
    reported them to probe(key), or None before it has."""
    state = st.session_state.get(key)
    size = state.get("size") if hasattr(state, "get") else None
    return size if isinstance(size, dict) else None


def probe(key: str) -> None:
    """Mount the probe here.  Call it last in the script (in a container
    placed where the probe should measure): the browser answers at once,
    and an answer that arrived while the script still ran would rerun the
    page before its first run had drawn the widgets a link filled in."""
    _probe(key=key, default={"size": None}, on_size_change=lambda: None)


def canvas_side(size: dict | None) -> int:
    """The canvas's side: as wide as its column, and short enough that the
    canvas and the answer fit in the window without scrolling."""
    if not size:
        return CANVAS_SIDE
    try:
        column, top, width, height = (int(size[k]) for k in ("column", "top", "width", "height"))
    except (KeyError, TypeError, ValueError):
        return CANVAS_SIDE
    below = ROOM_BELOW_STACKED if width < STACKED_BELOW else ROOM_BELOW_SIDE
    return max(SMALLEST, min(LARGEST, column, height - top - below))


def to_drawing_coordinates(image: np.ndarray) -> np.ndarray:
    """A canvas of any size as the 280x280 canvas it stands for, so that the
    preprocessing and the stored drawings see one size on every screen."""
    if image.shape[:2] == (CANVAS_SIDE, CANVAS_SIDE):
        return image
    return np.asarray(Image.fromarray(image).resize((CANVAS_SIDE, CANVAS_SIDE), Image.Resampling.BILINEAR))
