"""Helpers for reading pages run by Streamlit's AppTest."""


def image_captions(at):
    """Captions of every st.image on the page."""
    found = []

    def walk(node):
        for child in getattr(node, "children", {}).values():
            if type(child).__name__ == "Image":
                found.append(child.proto.imgs[0].caption)
            walk(child)

    walk(at.main)
    return found
