"""The app's pages and the one router that runs them.

Streamlit has two ways to make a multipage app.  This app uses st.navigation
(streamlit_app.py); but a folder named pages/ beside the entry script also
switches on Streamlit's legacy mode, in which a page's own address (/train)
runs the page script alone, without the router: the plain list of page
files, a narrow layout.  Legacy mode lasts until some session first calls
st.navigation, so it would catch everyone who follows a link on a freshly
started server (and AppTest starts every run in it).  Hence every page
begins with `routed()`: run outside the router, it runs the router itself,
whose st.navigation ends legacy mode for the whole server (as Streamlit
documents: "As soon as any session of your app executes the st.navigation
command, your app will ignore the pages/ directory").
"""

import threading

import streamlit as st

from ui.errors import show_bug
from ui.presenter import presenter_toggle

_run = threading.local()  # each session's script runs on a thread of its own


def pages():
    """The app's pages, in the order of the menu."""
    return [
        st.Page("pages/draw.py", title="Draw", icon="✏️", default=True),
        st.Page("pages/train.py", title="Train", icon="📈", url_path="train"),
        st.Page("pages/class.py", title="Class", icon="🏫", url_path="class"),
        st.Page("pages/inside.py", title="Inside", icon="🔬", url_path="inside"),
    ]


def run_app():
    """The router (streamlit_app.py): the page chosen by the address, in the app's frame."""
    st.set_page_config(page_title="How a neural network reads handwriting", page_icon="✏️", layout="wide")
    page = st.navigation(pages())
    presenter_toggle()
    _run.routed = True
    try:
        page.run()
    except Exception:  # a bug: logged with its traceback; Streamlit's own reruns and stops are not Exceptions
        show_bug(f"The {page.title} page")
    finally:
        _run.routed = False


def routed():
    """Under the router, nothing.  Run without it (Streamlit's legacy pages/
    mode), run the router here instead, which draws the page the address
    names, then end this run: the page is drawn once, in the app's frame,
    and no click or upload of this run is lost (a rerun would drop them)."""
    if not getattr(_run, "routed", False):
        run_app()  # its st.navigation ends legacy mode, for every session from now on
        st.stop()
