"""The Draw page's Clear button, which stops the old canvas taking strokes at once.

Clear gives the canvas a new key (a blank canvas), but the new canvas only
comes when the server has rerun the page, seconds later on a busy server.
Meanwhile the old canvas still takes strokes, and what a student draws on
it is sent as the old canvas's drawing, which the page no longer reads:
no reading, and a blank canvas arrives (issue 14, D12; `python
scripts/lost_readings.py --at-once` shows it).  So a click on Clear greys
the old canvas out in the browser and lets it take no more strokes; the new
canvas, a new element, takes them as soon as it shows.
"""

import streamlit as st

KEY = "clear-canvas"

_JS = """
const insideShadows = (node, selector) => {   // the canvas component draws in a shadow root
    const found = [...node.querySelectorAll(selector)];
    node.querySelectorAll("*").forEach((el) => {
        if (el.shadowRoot) found.push(...insideShadows(el.shadowRoot, selector));
    });
    return found;
};
export default function () {
    const onClick = (event) => {
        if (!event.target.closest(".st-key-clear-canvas button")) return;
        document.querySelectorAll("[class*='st-key-canvas-']").forEach((box) => {
            insideShadows(box, ".dc-root").forEach((old) => {
                old.style.pointerEvents = "none";   // it goes with its canvas: the new canvas is untouched
                old.style.opacity = "0.35";
            });
        });
    };
    document.addEventListener("click", onClick, true);
    return () => document.removeEventListener("click", onClick, true);
}
"""

_guard = st.components.v2.component("network-clear-guard", html="<span></span>", js=_JS, isolate_styles=False)


def clear_button(on_click):
    """Clear (key `clear-canvas`): `on_click` gives the canvas its new key; the old one takes no more strokes."""
    st.button("Clear", on_click=on_click, key=KEY)
    _guard(key="clear-guard")
