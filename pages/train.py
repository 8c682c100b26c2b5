"""Train page: train a network in the browser, watch it learn, keep the best.

This script only composes the page; each part lives in ui/: the settings
(train_settings.py), the runs and their buttons (train_runs.py), the live
view (train_live.py), the results (train_results.py) and saving
(train_saving.py).
"""

import streamlit as st

from ui.classroom import my_class_models
from ui.errors import guarded
from ui.lesson_links import copy_link_button, open_link
from ui.routing import routed
from ui.train_finetune import DRAWINGS, finetune_section
from ui.train_live import live_view, refresh_every
from ui.train_results import results_section
from ui.train_runs import control_buttons, current_run
from ui.train_saving import upload_section
from ui.train_settings import choose_data, choose_preset, recipe, show_recipe

routed()  # before anything is drawn: see ui/routing.py

st.title("Train a network")
st.caption("Pick a recipe and press Start to watch the network learn: the loss falls, the accuracy climbs and "
           "the first layer's weights turn into stroke detectors. Pause or stop it whenever you like, compare "
           "runs, and keep the best one for the Draw page.")

open_link()  # before the controls: a lesson link sets them
data_column, recipe_column, buttons_column = st.columns([1, 1.4, 1], gap="large")
with data_column:
    data = choose_data()
if data is DRAWINGS:   # fine-tuning has its own controls
    finetune_section()
    st.stop()
with recipe_column:
    preset = choose_preset()
config, problem = recipe(preset, data)  # Custom's controls go here, the whole width of the page
with recipe_column:
    show_recipe(preset, config, problem, data)
with buttons_column:
    control_buttons(preset, config, problem, data)
    copy_link_button()
run = current_run()
refresh = refresh_every(run.worker.snapshot() if run else None)
st.fragment(run_every=refresh)(guarded(live_view, "The live view"))(refresh)
results_section()
upload_section()
my_class_models()
