"""The Streamlit helpers the pages share (pages/ holds only page scripts).

    classroom.py   the Draw page in a class: joining, the "Draw this" round
    projector.py   the Class page's teacher view: the class live, moderation, downloads

Pages stay thin: they gather input, call network/, and draw.
"""
