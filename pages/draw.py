"""Draw page: draw a digit, see what the network sees, and why it decided."""

import streamlit as st
from streamlit_drawable_canvas import st_canvas

from network.database import DatabaseError
from network.images import read_canvas
from network.modelfile import ModelFileError, input_blur
from network.preprocess import canvas_to_mnist
from network.store import StoreError, open_store
from network.visualise import enlarge, png, saliency_overlay, scaled_grey, tile
from ui.charts import probability_chart
from ui.classroom import class_bar, class_model_choices, correction_place, keep_prompted, next_prompt, show_prompt
from ui.clear_button import clear_button
from ui.models import linked_model, load_chosen_model, model_choices
from ui.novelty import is_a_digit, show_not_a_digit
from ui.presenter import presenting
from ui.routing import routed
from ui.session import LAST_DRAWING
from ui.viewport import CANVAS_SIDE, canvas_side, probe, reported_size, to_drawing_coordinates
from ui.words import a_digit

routed()  # before anything is drawn: see ui/routing.py

LOW_CONFIDENCE = 0.6    # below this top probability, say the network is unsure
SCRIBBLE = 0.35         # ink covering more than this share of the canvas
VIEWPORT = "draw-viewport"  # the key of the probe of the window's size
KEPT_CANVAS = "draw_kept_canvas"  # session state: the latest drawing, kept when the student visits another page


def clear_canvas():
    # The canvas keeps its drawing per key: a new key is a blank canvas.
    st.session_state.canvas_round = st.session_state.get("canvas_round", 0) + 1
    next_prompt()


def picture(place, image, width, caption):
    """An image enlarged with square pixels; PNG, since JPEG would smear them."""
    place.image(png(enlarge(image, width)), caption=caption)


def model_summary(net):
    metrics = net.metadata.get("metrics", {})
    test, drawings = metrics.get("test_accuracy"), metrics.get("drawings_accuracy")
    accuracy = f" · MNIST test accuracy **{test:.2%}**" if isinstance(test, float) else ""
    if isinstance(drawings, float):   # a model fine-tuned on people's drawings
        accuracy += f" · held-out drawings **{drawings:.2%}**"
    return f"`{net.describe()}` · {net.n_params:,} parameters{accuracy}"


def show_prediction(reading, drawing, big, digit_like=True):
    if not digit_like:  # a letter, a doodle: no confident digit (ui/novelty.py)
        show_not_a_digit(reading, big)
        return
    probabilities, digit = reading.probabilities, reading.digit
    confidence = float(probabilities[digit])
    digit_size = "11rem" if big else "5rem"
    with st.container(key="prediction"):
        st.markdown(f"<div class='answer-digit' style='font-size:{digit_size};line-height:1;font-weight:700'>"
                    f"{digit}</div>", unsafe_allow_html=True)
        article, _ = a_digit(digit).split()
        st.markdown(f"I read {article} **{digit}**, {confidence:.0%} sure.")
    if drawing.ink_fraction > SCRIBBLE:
        st.warning("That covers most of the canvas: it looks more like a scribble than a digit, "
                   "so take this guess with a pinch of salt.")
    elif confidence < LOW_CONFIDENCE:
        runner_up = int(probabilities.argsort()[-2])
        st.warning(f"Low confidence: it could also be {a_digit(runner_up)}. "
                   "Try drawing it larger or more clearly.")
    st.vega_lite_chart(*probability_chart(probabilities, big), width="stretch")


def show_what_it_sees(drawing):
    st.subheader("What the network sees")
    st.caption("Your drawing is cropped to its ink, scaled so its longer side is 20 pixels, and placed in a "
               "28x28 square with its centre of mass in the middle, exactly as MNIST's digits were. "
               "Without that, a small or off-centre digit looks like nothing the network has seen.")
    columns = st.columns(len(drawing.steps))
    for column, (title, image) in zip(columns, drawing.steps):
        picture(column, image, 140, f"{title} ({image.shape[1]}x{image.shape[0]})")


def show_why(reading, pixels):
    st.subheader("Why it decided")
    left, right = st.columns([1, 2])
    picture(left, saliency_overlay(pixels, reading.saliency), 196,
            f"Saliency for {reading.digit}: red pixels would raise its score if inked, blue would lower it")
    for description, values in reading.activations:
        if values.ndim == 3:  # conv feature maps
            maps = tile(scaled_grey(values), columns=8)
            picture(right, maps, min(560, maps.shape[1] * 5),
                    f"{description}: {values.shape[0]} feature maps (bright = active)")
        else:
            columns = 16 if values.size % 16 == 0 else values.size
            picture(right, scaled_grey(values).reshape(-1, columns), min(560, columns * 24),
                    f"{description}: {values.size} hidden units (bright = active)")


def explained(prompted):
    """Whether to draw what the network sees and why it decided: always in
    free drawing; in a "Draw this" round only when asked, since a class of 60
    reads a drawing every few seconds each and the pictures were most of the
    server's work for a reading (README, "How many students one server holds")."""
    if prompted is None:
        return True
    return st.toggle("Show what the network sees, and why it decided", key="draw-explain")


def show_correction(drawing, image_data, reading, model_label):
    with st.container(key="correction"):
        st.markdown("**Was I wrong?** Pick the right digit and the drawing is kept to train on later.")
        label = st.pills("Right digit", list(range(10)), key="correct-digit", label_visibility="collapsed")
        try:
            store = open_store()
            if st.button("Save the right digit", key="save-correction", disabled=label is None):
                # Picking the digit it read is a confirmation, not a mistake.
                source = "confirmed" if label == reading.digit else "correction"
                class_code, student = correction_place()
                store.add_drawing(drawing.pixels, label, source, predicted=reading.digit,
                                  confidence=reading.probabilities[reading.digit], model=model_label,
                                  canvas=image_data, class_code=class_code, student=student)
                if source == "confirmed":
                    st.info(f"That is what I read: kept as {a_digit(label)} I read right, not as a mistake.")
                else:
                    st.success(f"Thank you! Saved as {a_digit(label)}.")
            st.caption(f"Drawings saved: {store.count_drawings(correction_place()[0])}")
        except (StoreError, DatabaseError) as error:
            st.error(f"Could not save the drawing: {error}")


def kept_canvas(key):
    """The drawing to put back on a new canvas: this session's last one,
    when the canvas has lost it (the student went to another page and came
    back: Streamlit forgets the state of widgets a page did not draw)."""
    kept = st.session_state.get(KEPT_CANVAS)
    if kept is None or kept["key"] != key:
        return None
    if key not in st.session_state:
        kept["restored"] = True
    return kept if kept.get("restored") else None


def keep_canvas(key, canvas, image):
    """Remember the drawing for the session (see kept_canvas)."""
    kept = st.session_state.get(KEPT_CANVAS)
    restored = kept is not None and kept["key"] == key and kept.get("restored")
    st.session_state[KEPT_CANVAS] = {"key": key, "json": kept["json"] if restored else canvas.json_data,
                                     "image": image, "restored": restored}


big = presenting()
st.title("Draw a digit")
if not big:
    st.caption("A neural network written from scratch in NumPy reads your handwriting. "
               "Draw with the mouse or a finger; it guesses every time you lift the pen.")

choices = model_choices()
if not choices:
    st.error("No model found: the shipped models/default.npz is missing. Train one on the Train page.")
    st.stop()
# Boxes in the order they appear; filled below in the order the code needs them.
pad, right = st.columns([1.15, 1], gap="large")
with pad:
    prompt_box = st.container()
    probe_box = st.container()  # measures the column and the window (ui/viewport.py), mounted last
    canvas_box = st.container()
side = canvas_side(reported_size(VIEWPORT))  # the canvas fits its column and the window
settings = st.columns(3)
with settings[0]:
    class_code = class_bar()
    choices = class_model_choices(choices)
with settings[1]:
    fixed = linked_model()
    if fixed:
        model_label, _ = fixed
        choices[model_label] = fixed[1]
        st.caption(f"Model: **{model_label}** (set by the link you opened)")
    else:
        model_label = st.selectbox("Model", list(choices), key="model-picker",
                                   help="Which trained network reads your drawing. Models saved on the Train page "
                                        "appear here.")
    try:
        net = load_chosen_model(choices[model_label])
    except (ModelFileError, OSError) as error:
        st.error(f"This model cannot be used: {error}")
        st.stop()
    st.markdown(model_summary(net))
with settings[2]:
    pen = st.slider("Pen width", 6, 40, 18, help="Thicker or thinner strokes: the preprocessing evens them out.")
with prompt_box:
    prompted = show_prompt(class_code)
with canvas_box:
    key = f"canvas-{st.session_state.get('canvas_round', 0)}"
    kept = kept_canvas(key)
    # The pen is scaled with the canvas, so that a stroke is as thick against the digit on any screen.
    canvas = st_canvas(stroke_width=max(1, round(pen * side / CANVAS_SIDE)), stroke_color="#FFFFFF",
                       background_color="#000000", width=side, height=side, drawing_mode="freedraw",
                       initial_drawing=kept["json"] if kept else None, return_image_data=True, key=key)
    clear_button(clear_canvas)
    # The canvas's PNG is checked before it is decoded: a tampered page could send anything.
    image = read_canvas(canvas, side)
    image = to_drawing_coordinates(image) if image is not None else None
    if image is None and kept is not None:
        image = kept["image"]
    if image is not None:
        keep_canvas(key, canvas, image)

with right:
    drawing = canvas_to_mnist(image, ink="light", blur=input_blur(net)) if image is not None else None
    if drawing is None or drawing.empty:
        with st.container(key="prediction"):
            st.info("Draw a digit in the black square, as large as you like, and I will guess which one it is.")
    else:
        st.session_state[LAST_DRAWING] = drawing.pixels
        reading = net.explain(drawing.pixels)  # a pure function: readers share the model, no lock
        show_prediction(reading, drawing, big, is_a_digit(drawing))
        if prompted is None:
            correction_box = st.expander("Was I wrong?") if big else st.container()
            with correction_box:
                show_correction(drawing, image, reading, model_label)
        else:
            keep_prompted(class_code, prompted, drawing, image, reading, model_label)

wanted = explained(prompted)  # the toggle stays, drawing or not, so a round keeps its choice
if drawing is not None and not drawing.empty and wanted:
    with st.expander("What the network sees, and why it decided") if big else st.container():
        show_what_it_sees(drawing)
        show_why(reading, drawing.pixels)
with probe_box:
    probe(VIEWPORT)
