"""Class page: a teacher opens a class; the teacher link shows it on the projector."""

import streamlit as st

from ui.projector import open_button, teacher_view
from ui.routing import routed

routed()  # before anything is drawn: see ui/routing.py

st.title("Class")
token = st.query_params.get("teacher")
if token is None or not teacher_view(token):
    st.markdown("Open a class and show this page on the projector: your students join with the code, the "
                "link or the QR code, and draw the digits the Draw page asks for. You see their drawings "
                "arrive, how the network reads them and where it fails, live; then you keep the data. "
                "No accounts and no names: each student is an anonymous id.")
    open_button()
