"""The app: draw a digit and see how the network reads it; train your own.

    streamlit run streamlit_app.py
"""

import streamlit as st

st.set_page_config(page_title="How a neural network reads handwriting", page_icon="✏️", layout="wide")

navigation = st.navigation([
    st.Page("pages/draw.py", title="Draw", icon="✏️", default=True),
    st.Page("pages/train.py", title="Train", icon="📈", url_path="train"),
    st.Page("pages/class.py", title="Class", icon="🏫", url_path="class"),
])
navigation.run()
