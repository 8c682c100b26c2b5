"""The app: draw a digit and see how the network reads it; train your own.

    streamlit run streamlit_app.py

This script only routes (ui/routing.py): pages/ holds one script per page,
ui/ the Streamlit helpers they share, network/ everything else.
"""

from ui.routing import run_app

run_app()
