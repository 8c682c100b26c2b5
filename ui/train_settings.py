"""The Train page's settings: which digits to learn from, the recipe (a
preset, or every setting of Custom), and whether it can run.

The widgets' choices, bounds and help texts come from the table of recipe
rules (network/recipe_rules.py), which also checks every recipe.
"""

import dataclasses

import streamlit as st

from network.budgets import check_recipe_budget
from network.csvfile import load_csv
from network.errors import UserError
from network.mnist import TRAIN_SIZE
from network.optimizers import OPTIMIZER_NAMES
from network.recipe_rules import BATCH_SIZES, RULES
from network.training import PRESETS, TrainConfig, parse_conv, parse_widths, total_steps, training_size
from ui.classroom import CLASS_DATA, allowed_presets, class_training_digits, data_choices
from ui.lesson_links import LESSON, hidden, hidden_value, write_link
from ui.train_finetune import DRAWINGS
from ui.train_runs import MNIST, PRESET_NAMES

EVALUATIONS_PER_RUN = 30  # dev measurements a Custom run makes
CSV_CACHE = "train_csv_digits"  # session state: (upload id, Digits or None, problem or None)
CSV = "My CSV file"
PRESET_NOTES = {  # {train} is the number of digits the run learns from
    "fast": "A good model in seconds, for a class: one hidden layer of 128 ReLU units, Adam, "
            "two passes over the {train} training digits.",
    "seed": "The original notebook, exactly: 784-10-10, uniform random start, plain gradient descent on "
            "all {train} training images at once, learning rate 0.1, 500 iterations. Watch how slowly it climbs.",
    "default": (f"The shipped model's network in a short run: a small convolutional network trained for "
                f"{PRESETS['default'].epochs} epochs on {{train}} shifted, rotated, slanted, rescaled and thickened "
                "digits. About 2 minutes alone on the server, more while other runs share it; the shipped model "
                f"itself trained for {PRESETS['shipped'].epochs} epochs and reads drawings a little better."),
    "custom": "Every setting is yours: they appear below.",
}


def custom_values():
    """The Custom recipe's settings, as its controls hold them (named as in
    a lesson link); a setting the lesson link hides has no control."""
    base, rules = PRESETS["fast"], RULES
    values = {}

    def control(name, key, default, make, rule=None):
        """The control `make(**arguments)`, or for a hidden setting the link's value."""
        if hidden(name):
            values[name] = hidden_value(name, default)
            return
        rule = rules[rule or name]
        st.session_state.setdefault(key, default)
        values[name] = make(label=rule.label, help=rule.help, key=key)

    def bounds(name):
        return {"min_value": rules[name].low, "max_value": rules[name].high}

    with st.container(border=True):
        st.markdown("**Custom settings**: hover over the ? beside a setting to see what it does to learning.")
        shape, stepping, length_column, sample = st.columns(4)
        control("hidden", "train-hidden", "128", shape.text_input)
        control("conv", "train-conv", "", shape.text_input, "filters")
        control("activation", "train-activation", "relu",
                lambda **a: shape.selectbox(options=rules["activation"].choices, **a))
        control("init", "train-init", "he", lambda **a: shape.selectbox(options=rules["init"].choices, **a))
        control("dropout", "train-dropout", 0.0, lambda **a: shape.slider(step=0.05, **bounds("dropout"), **a))
        control("optimizer", "train-optimizer", base.optimizer,
                lambda **a: stepping.selectbox(options=rules["optimizer"].choices, format_func=OPTIMIZER_NAMES.get,
                                               **a))
        control("lr", "train-lr", base.lr,
                lambda **a: stepping.number_input(step=0.0005, format="%.4f", **bounds("lr"), **a))
        control("schedule", "train-schedule", "constant",
                lambda **a: stepping.selectbox(options=rules["schedule"].choices, **a))
        control("l2", "train-l2", 0.0,
                lambda **a: stepping.number_input(step=0.0001, format="%.4f", **bounds("l2"), **a))
        control("batch", "train-batch", base.batch_size,
                lambda **a: length_column.select_slider(options=BATCH_SIZES, **a), "batch_size")
        if hidden("epochs"):
            unit = "iterations" if "iterations" in st.session_state[LESSON].settings else "epochs"
            values[unit] = hidden_value(unit, base.epochs)
        else:
            unit = length_column.radio(
                "Train for", ["epochs", "iterations"], horizontal=True, key="train-length-unit",
                help="An epoch is one pass over every training image; an iteration is one step (one batch).")
            st.session_state.setdefault("train-length", base.epochs if unit == "epochs" else 500)
            values[unit] = length_column.number_input(f"Number of {unit}", **bounds("length"), key="train-length",
                                                      help=rules["length"].help)
        control("augment", "train-augment", [],
                lambda **a: length_column.multiselect(options=rules["augment"].choices, **a))
        control("per_class", "train-per-class", 0,
                lambda **a: sample.number_input(step=10, **bounds("per_class"), **a))
        control("dev_size", "train-dev-size", base.dev_size,
                lambda **a: sample.number_input(step=500, **bounds("dev_size"), **a))
        control("seed", "train-seed", 0, lambda **a: sample.number_input(**bounds("seed"), **a))
    return values


def config_from_values(values, data_size):
    """The Custom settings as a TrainConfig; RecipeError for settings that do not parse."""
    batch = values["batch"]
    config = TrainConfig(
        hidden=parse_widths(values["hidden"]), conv=parse_conv(values["conv"]), activation=values["activation"],
        init=values["init"], optimizer=values["optimizer"], lr=float(values["lr"]), schedule=values["schedule"],
        batch_size=None if batch == "full" else batch, epochs=values.get("epochs"),
        iterations=values.get("iterations"), l2=float(values["l2"]), dropout=float(values["dropout"]),
        augment=tuple(values["augment"]), seed=int(values["seed"]), dev_size=int(values["dev_size"]),
        per_class=int(values["per_class"]) or None)
    return with_live_evaluations(config, data_size)


def with_live_evaluations(config, data_size):
    """Measure dev accuracy about EVALUATIONS_PER_RUN times, so the curves move during the run."""
    n_train = max(1, training_size(config, data_size))
    return dataclasses.replace(config, eval_every=max(1, total_steps(config, n_train) // EVALUATIONS_PER_RUN))


def fit_to_data(config, data_size):
    """A preset's dev set made to fit a small CSV: at most a fifth of its rows."""
    return dataclasses.replace(config, dev_size=min(config.dev_size, data_size // 5))


def check_recipe(config, data_size):
    """None if the recipe can run, else a message saying what to change."""
    if config.dev_size >= data_size:
        return f"the dev set ({config.dev_size:,}) must be smaller than the {data_size:,} digits to learn from"
    try:
        config.check()
        check_recipe_budget(config, training_size(config, data_size))  # from the shapes, without the weights
    except UserError as error:
        return str(error)
    return None


def uploaded_digits(upload):
    """The Digits in an uploaded Kaggle CSV, parsed once per upload; None,
    after a message naming the file, row and column, for a bad one."""
    cached = st.session_state.get(CSV_CACHE)
    if cached is None or cached[0] != upload.file_id:
        try:
            cached = (upload.file_id, load_csv(upload), None)
        except UserError as error:
            cached = (upload.file_id, None, str(error))
        st.session_state[CSV_CACHE] = cached
    _, digits, problem = cached
    if problem:
        st.error(f"This file cannot be used: {problem}")
    else:
        st.caption(f"{len(digits):,} labelled digits. Without a separate test set, runs are judged on the "
                   "dev digits held out of training.")
    return digits


def choose_data():
    """MNIST, DRAWINGS (fine-tuning), the class's drawings, an uploaded CSV's Digits, or None until a good
    CSV is uploaded."""
    kind = st.radio("Digits to learn from", data_choices([MNIST, CSV, DRAWINGS]), horizontal=True, key="train-data",
                    help="MNIST: 60,000 handwritten digits, plus 10,000 more to test on (downloaded on first "
                         "use). Or your own CSV in the format of Kaggle's digit recognizer: a header "
                         "label,pixel0,...,pixel783, then one digit per row with pixels from 0 to 255. "
                         "Or people's drawings: a trained model learns further from them.")
    if kind in (MNIST, DRAWINGS):
        return kind
    if kind == CLASS_DATA:
        return class_training_digits()
    upload = st.file_uploader("CSV file", type=["csv"], key="train-csv")
    return uploaded_digits(upload) if upload is not None else None


def choose_preset():
    return st.radio("Recipe", allowed_presets(list(PRESET_NAMES)), format_func=PRESET_NAMES.get,
                    horizontal=True, key="train-preset", help="A ready-made recipe, or Custom to choose every setting.")


def preset_note(preset, config, data):
    """What the preset does, with the number of digits it learns from in this run's data."""
    data_size = TRAIN_SIZE if data is MNIST or data is None else len(data)
    n_train = data_size - config.dev_size if config is not None else data_size
    source = "" if data is MNIST or data is None else " They are the digits chosen above, less the dev digits held out."
    return PRESET_NOTES[preset].format(train=f"{max(0, n_train):,}") + source


def recipe(preset, data):
    """(TrainConfig or None, problem message or None) for the preset, or
    from the Custom controls; a preset's dev set is fitted to a small CSV.
    The page's address becomes the lesson link of what is chosen."""
    data_size = TRAIN_SIZE if data is MNIST or data is None else len(data)
    values = custom_values() if preset == "custom" else None
    write_link(preset, values)
    try:
        config = config_from_values(values, data_size) if values else fit_to_data(PRESETS[preset], data_size)
    except UserError as error:
        return None, str(error)
    return config, check_recipe(config, data_size)


def show_recipe(preset, config, problem, data):
    st.caption(preset_note(preset, config, data))
    if problem:
        st.error(f"Please change a setting: {problem}")
    elif config is not None:
        st.caption(f"`{config.describe()}` · {config.dev_size:,} dev images")
