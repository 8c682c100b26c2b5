"""The Class page's teacher view: a class on the projector, live.

The teacher link (/class?teacher=TOKEN) alone opens it.  The live part is a
fragment that reruns itself every REFRESH seconds for this browser only:
it asks the store which drawings are new, redrawn or gone (ids and times,
no pixels) and fetches only those, so a class of 60 costs a few small
queries per refresh, and no student's page reruns because of it.
"""

import io
from urllib.parse import urlsplit

import numpy as np
import pandas as pd
import segno
import streamlit as st
from PIL import Image

from network.classmodels import delete_class_model, forget_class_models
from network.classroom import class_report, csv_bytes, zip_bytes
from network.database import DatabaseError
from network.store import StoreError, open_store
from network.visualise import enlarge
from ui.classroom import TEACHING
from ui.train_runs import PRESET_NAMES
from ui.words import as_plain_text

REFRESH = 3           # seconds between refreshes of the live view
GALLERY = 18          # latest drawings shown
CACHE = "projector_drawings"   # {id: Drawing} this browser has fetched
RIGHT, WRONG = (26, 127, 55), (207, 34, 46)


def open_class():
    """class-open: a new class; the address becomes its private teacher link."""
    try:
        _, token = open_store().open_class()
    except (StoreError, DatabaseError) as error:
        st.session_state["class-open-error"] = str(error)
        return
    st.query_params["teacher"] = token
    st.session_state.pop(CACHE, None)


def open_button():
    st.button("Open a new class", key="class-open", type="primary", on_click=open_class)
    if "class-open-error" in st.session_state:
        st.error(f"Could not open a class: {st.session_state.pop('class-open-error')}")


def app_address():
    """The app's address as the teacher's browser sees it, without the page's name."""
    try:
        parts = urlsplit(st.context.url or "")
    except (AttributeError, RuntimeError):
        parts = urlsplit("")
    if not parts.scheme or not parts.netloc:
        return "http://localhost:8501"
    path = parts.path.rstrip("/")
    if path.endswith("/class"):
        path = path[: -len("/class")]
    return f"{parts.scheme}://{parts.netloc}{path}"


@st.cache_data(show_spinner=False, max_entries=64)
def qr_png(link):
    """The join link as a QR code, big enough to scan from the back of a room."""
    buffer = io.BytesIO()
    segno.make(link, error="m").save(buffer, kind="png", scale=12, border=2)
    return buffer.getvalue()


def teacher_view(token):
    """The whole teacher view; False if the token opens no class."""
    store = open_store()
    try:
        info = store.teacher_class(token)
    except (StoreError, DatabaseError) as error:
        st.error(str(error))
        return False
    st.session_state[TEACHING] = info.code
    join = f"{app_address()}/?class={info.code}"
    left, right = st.columns([2, 1], gap="large")
    with left:
        st.caption("Class code: type it on the Draw page, or open the link, or scan the QR code")
        with st.container(key="class-code"):
            # The code comes from CODE_ALPHABET only: safe to put in HTML.
            st.markdown(f"<div style='font-size:7rem;line-height:1;font-weight:800;letter-spacing:.15em'>"
                        f"{info.code}</div>", unsafe_allow_html=True)
        st.code(join, language=None)
        if not info.is_open:
            st.warning("This class is closed: students cannot join or draw. Its drawings are kept until you "
                       "delete the class.")
    with right:
        st.image(qr_png(join), width=300, caption="Scan to join")
    live_view(info.code, token)
    teacher_tools(info, token)
    models_and_recipes(info, token)
    return True


@st.fragment(run_every=REFRESH)
def live_view(code, token):
    try:
        drawings = fresh_drawings(code)
        students, _ = open_store().counts(code)
        names = open_store().nicknames(code)
    except (StoreError, DatabaseError) as error:
        st.error(f"The class cannot be read just now: {error}")
        return
    report = class_report(drawings)
    if "remove-error" in st.session_state:
        st.error(f"Could not remove the drawing: {st.session_state.pop('remove-error')}")
    with st.container(key="class-count"):
        accuracy = "" if report.accuracy is None else f" · the network read **{report.accuracy:.0%}** right"
        st.markdown(f"### {len(drawings)} drawings · {students} students{accuracy}")
    gallery_column, stats_column = st.columns([5, 4], gap="large")
    with gallery_column:
        st.subheader("Latest drawings, as the network saw them")
        show_drawings(drawings[::-1][:GALLERY], token, "gallery", 6, names)
    with stats_column:
        show_accuracy(report)
        show_confusion(report, drawings, token, names)
    if report.fooled:
        st.subheader("Who fooled the network: its most confident mistakes")
        show_drawings(report.fooled, token, "fooled", 12, names)


def fresh_drawings(code):
    """The class's drawings, oldest first, fetching only the new and redrawn ones."""
    store = open_store()
    cache = st.session_state.setdefault(CACHE, {})
    if cache.get("code") != code:
        cache.clear()
        cache.update(code=code, drawings={})
    known = cache["drawings"]
    versions = store.versions(code)
    for gone in set(known) - set(versions):
        del known[gone]
    changed = [i for i, created in versions.items() if i not in known or known[i].created != created]
    for start in range(0, len(changed), 500):
        for drawing in store.drawings(code, ids=changed[start:start + 500]):
            known[drawing.id] = drawing
    return [known[i] for i in sorted(known)]


def picture(drawing, size=84, frame=5):
    """The 28x28 input enlarged, framed green when read right, red when wrong."""
    colour = RIGHT if drawing.right else WRONG
    image = Image.new("RGB", (size + 2 * frame, size + 2 * frame), colour)
    image.paste(Image.fromarray(enlarge(drawing.pixels, size)).convert("RGB"), (frame, frame))
    return np.asarray(image)


def caption(drawing, names):
    """What was drawn and read, and by whom if the student chose a nickname
    (plain text: a caption is Markdown, and nothing a student types is rendered)."""
    mark = "✓" if drawing.right else "✗"
    confidence = "" if drawing.confidence is None else f" {drawing.confidence:.0%}"
    name = names.get(drawing.student)
    by = f" · {as_plain_text(name)}" if name else ""
    return f"{mark} drew {drawing.label}, read {drawing.predicted}{confidence}{by}"


def show_drawings(drawings, token, where, columns, names):
    """Drawings in a grid, each with a button that removes it for good; `names`: {student: nickname}."""
    if not drawings:
        st.caption("No drawings yet: they appear here as the class draws.")
        return
    for start in range(0, len(drawings), columns):
        for column, drawing in zip(st.columns(columns), drawings[start:start + columns]):
            with column:
                st.image(picture(drawing), caption=caption(drawing, names), output_format="PNG")
                st.button(":material/delete:", key=f"remove-{where}-{drawing.id}", on_click=remove,
                          args=(token, drawing.id),
                          help="Remove this drawing from the gallery and from the class's data, for good")


def remove(token, drawing_id):
    try:
        open_store().remove_drawing(token, drawing_id)
    except (StoreError, DatabaseError) as error:
        st.session_state["remove-error"] = str(error)
    st.session_state.get(CACHE, {}).get("drawings", {}).pop(drawing_id, None)


def show_accuracy(report):
    st.subheader("Read right, per digit")
    rows = [{"digit": str(digit), "drawings": n, "accuracy": right / n if n else None}
            for digit, n, right in report.per_digit]
    st.dataframe(pd.DataFrame(rows), hide_index=True, width="stretch",
                 column_config={"accuracy": st.column_config.ProgressColumn("accuracy", min_value=0, max_value=1,
                                                                            format="percent")})


def show_confusion(report, drawings, token, names):
    st.subheader("What it read, for each digit drawn")
    st.caption("Rows: the digit drawn; columns: what the network read. Click a cell to see its drawings.")
    digits = [str(d) for d in range(10)]
    frame = pd.DataFrame(report.confusion, index=digits, columns=digits)
    event = st.dataframe(frame.style.apply(_shade, axis=None), on_select="rerun", selection_mode="single-cell",
                         key="class-confusion", column_config={d: st.column_config.NumberColumn(d, width=28)
                                                               for d in digits})
    cells = event.selection.get("cells", []) if event is not None else []
    if cells:
        row, column = cells[0]
        label, reading = int(row), int(column)
        by_id = {d.id: d for d in drawings}
        behind = [by_id[i] for i in report.cells.get((label, reading), []) if i in by_id]
        st.markdown(f"**Drew {label}, read {reading}**: {len(behind)} drawings")
        show_drawings(behind[:24], token, "cell", 6, names)


def _shade(frame):
    """Green on the diagonal (read right), red elsewhere, stronger with more drawings."""
    values = frame.to_numpy()
    top = max(1, values.max())
    styles = np.full(values.shape, "", dtype=object)
    for (i, j), n in np.ndenumerate(values):
        if n:
            alpha = 0.15 + 0.6 * n / top
            colour = RIGHT if i == j else WRONG
            styles[i, j] = f"background-color: rgba({colour[0]},{colour[1]},{colour[2]},{alpha:.2f})"
    return pd.DataFrame(styles, index=frame.index, columns=frame.columns)


def teacher_tools(info, token):
    st.divider()
    st.subheader("Keep the data")
    store = open_store()
    csv_column, zip_column = st.columns(2)
    csv_column.download_button("Download the drawings as CSV (label, pixel0..pixel783)", key="class-csv",
                               data=lambda: csv_bytes(store.drawings(info.code)), file_name=f"class-{info.code}.csv",
                               mime="text/csv", on_click="ignore")
    zip_column.download_button("Download the drawings as PNGs with their labels (zip)", key="class-zip",
                               data=lambda: zip_bytes(store.drawings(info.code), store.canvas_png),
                               file_name=f"class-{info.code}.zip", mime="application/zip", on_click="ignore")
    st.caption(f"Or on the server: `python -m network class export {info.code} --out class.csv`")
    with st.expander("Teacher link, closing and deleting the class"):
        st.markdown("This page's address is your private teacher link: whoever has it can remove drawings "
                    "and close the class. Keep it to yourself.")
        st.code(f"{app_address()}/class?teacher={token}", language=None)
        close = info.is_open and st.button("Close the class", key="class-close",
                                           help="Students can no longer join or draw; the drawings are kept")
        sure = st.checkbox("I have downloaded what I want to keep", key="class-delete-sure")
        delete = st.button("Delete the class and all its drawings", key="class-delete", disabled=not sure)
        try:
            if close:
                store.close_class(token)
                st.rerun()
            if delete:
                store.delete_class(token)
                forget_class_models(info.code)
                del st.query_params["teacher"]
                st.session_state.pop(CACHE, None)
                st.rerun()
        except (StoreError, DatabaseError) as error:
            st.error(str(error))


def models_and_recipes(info, token):
    """The recipes students may train, and the class's models, any of which the teacher deletes."""
    store = open_store()
    with st.expander("Training in this class: recipes and models"):
        try:
            allowed = store.recipes(info.code)
            chosen = st.multiselect("Recipes students may train", list(PRESET_NAMES), format_func=PRESET_NAMES.get,
                                    default=allowed or list(PRESET_NAMES), key="class-recipes",
                                    help="Leave out Default, say, whose runs hold a training slot for minutes. "
                                         "None chosen means all.")
            wanted = None if not chosen or set(chosen) == set(PRESET_NAMES) else chosen
            if wanted != allowed:
                store.set_recipes(token, wanted)
            models = store.class_models(info.code)
        except (StoreError, DatabaseError) as error:
            st.error(str(error))
            return
        if not models:
            st.caption("No models saved in this class yet: students save theirs on the Train page.")
        for model in models:
            name_column, button_column = st.columns([4, 1])
            accuracy = "" if model.accuracy is None else f" · {model.accuracy:.1%}"
            name_column.text(f"{model.name}{accuracy}")
            if button_column.button("Delete", key=f"teacher-delete-model-{model.id}"):
                delete_class_model(store, info.code, model.id, token=token)
                st.rerun()
