"""Lesson links: every Train page setting in the address, checked, hideable;
and /?model= fixing the Draw page's model."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from network.lesson_link import HIDEABLE, lesson_query, read_lesson

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")

# Each parameter, a valid value, the control it sets and the value the control then holds.
VALID = [
    ("hidden", "256,128", "text_input", "train-hidden", "256, 128"),
    ("conv", "8x5", "text_input", "train-conv", "8x5"),
    ("activation", "tanh", "selectbox", "train-activation", "tanh"),
    ("init", "xavier", "selectbox", "train-init", "xavier"),
    ("dropout", "0.2", "slider", "train-dropout", 0.2),
    ("optimizer", "gd", "selectbox", "train-optimizer", "gd"),
    ("lr", "0.5", "number_input", "train-lr", 0.5),
    ("schedule", "cosine", "selectbox", "train-schedule", "cosine"),
    ("l2", "0.001", "number_input", "train-l2", 0.001),
    ("batch", "full", "select_slider", "train-batch", "full"),
    ("epochs", "3", "number_input", "train-length", 3),
    ("iterations", "40", "number_input", "train-length", 40),
    ("augment", "shift,rotate", "multiselect", "train-augment", ["shift", "rotate"]),
    ("per_class", "100", "number_input", "train-per-class", 100),
    ("dev_size", "1000", "number_input", "train-dev-size", 1000),
    ("seed", "7", "number_input", "train-seed", 7),
]
INVALID = [("hidden", "lots"), ("hidden", "0"), ("conv", "16by5"), ("activation", "swish"), ("init", "zeros"),
           ("dropout", "1.5"), ("optimizer", "sgd9"), ("lr", "0"), ("lr", "abc"), ("lr", "nan"), ("lr", "11"),
           ("schedule", "wavy"), ("l2", "-1"), ("batch", "7"), ("batch", "x"), ("epochs", "0"), ("epochs", "2.5"),
           ("iterations", "-3"), ("augment", "blur"), ("per_class", "20000"), ("dev_size", "-1"), ("seed", "-1"),
           ("preset", "slow"), ("axis", "hours"), ("hide", "everything"), ("colour", "red")]


def open_train(**query):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.switch_page("pages/train.py")
    at.run()
    assert not at.exception, at.exception
    return at


def link_warning(at):
    return [w.value for w in at.warning if "This link has settings" in w.value]


def test_reading_a_link_checks_every_value_and_writes_it_back():
    lesson = read_lesson({"hidden": "256, 128", "lr": "0.05", "batch": "full", "augment": "all", "hide": "lr,l2"})
    assert lesson.preset == "custom" and not lesson.problems
    # "all" is every kind, elastic and the label-aware ones too
    assert lesson.settings["augment"] == ["shift", "rotate", "scale", "shear", "elastic", "thickness", "flag",
                                          "cross", "hook", "pen"]
    query = lesson_query(lesson.preset, lesson.settings, None, lesson.hide)
    assert read_lesson(query).settings == lesson.settings and read_lesson(query).hide == ("lr", "l2")
    assert read_lesson({"preset": "seed", "lr": "0.1"}).settings == {}  # a preset's settings are its own


@pytest.mark.parametrize("name, text, widget, key, expected", VALID)
def test_a_valid_parameter_sets_its_control(name, text, widget, key, expected):
    at = open_train(preset="custom", **{name: text})
    assert not link_warning(at)
    value = getattr(at, widget)(key=key).value
    assert value == pytest.approx(expected) if isinstance(expected, float) else value == expected
    if name in ("epochs", "iterations"):
        assert at.radio(key="train-length-unit").value == name
    assert at.query_params[name] == text   # written back as given


@pytest.mark.parametrize("name, text", INVALID)
def test_an_invalid_parameter_gives_one_message_and_the_default(name, text):
    at = open_train(**{name: text})
    warnings = link_warning(at)
    assert len(warnings) == 1 and (name in warnings[0] or text in warnings[0])
    assert at.radio(key="train-preset").value == "fast"      # nothing else taken from the link
    assert not at.button(key="train-start").disabled


def test_several_bad_values_share_one_message_and_the_good_ones_stay():
    at = open_train(preset="custom", lr="zero", epochs="-2", hidden="64")
    warnings = link_warning(at)
    assert len(warnings) == 1 and "lr=zero" in warnings[0] and "epochs=-2" in warnings[0]
    assert at.text_input(key="train-hidden").value == "64"
    assert at.number_input(key="train-lr").value == pytest.approx(0.002)   # Custom's default


@pytest.mark.parametrize("name", HIDEABLE)
def test_a_hidden_setting_has_no_control_and_keeps_the_links_value(name):
    key = {"batch": "train-batch", "epochs": "train-length", "per_class": "train-per-class",
           "dev_size": "train-dev-size"}.get(name, f"train-{name}")
    at = open_train(preset="custom", lr="0.01", hide=name)
    keys = {getattr(element, "key", None) for element in at.main if hasattr(element, "key")}
    assert key not in keys and not link_warning(at)
    assert all(k in keys for k in ("train-hidden", "train-optimizer", "train-lr") if k != key)
    if name == "lr":
        assert "lr 0.01" in " ".join(c.value for c in at.caption)   # the recipe keeps the link's value
    assert at.query_params["hide"] == name


def test_a_preset_and_the_chart_axis_come_from_the_link():
    at = open_train(preset="seed", axis="seconds")
    assert at.radio(key="train-preset").value == "seed"
    assert at.session_state["train-x-axis"] == "seconds"
    assert at.query_params["preset"] == "seed"


def test_changing_a_setting_rewrites_the_link():
    at = open_train(preset="custom")
    at.number_input(key="train-lr").set_value(0.05).run()
    assert at.query_params["lr"] == "0.05" and at.query_params["preset"] == "custom"
    at.radio(key="train-preset").set_value("fast").run()
    assert "lr" not in at.query_params


def open_draw(**query):
    at = AppTest.from_file(APP, default_timeout=60)
    at.query_params.update(query)
    at.run()
    assert not at.exception, at.exception
    return at


def test_a_link_fixes_the_draw_pages_model():
    at = open_draw(model="seed")
    assert not [s for s in at.selectbox if s.key == "model-picker"]
    assert "784-10-10" in " ".join(m.value for m in at.markdown)
    at = open_draw(model="no-such-model")
    assert any("no-such-model" in w.value for w in at.warning)
    assert at.selectbox(key="model-picker").value == "Default (shipped)"


def test_the_readmes_lesson_links_are_clean():
    import re
    from urllib.parse import parse_qsl
    readme = (Path(APP).parent / "README.md").read_text()
    links = re.findall(r"`/train\?([^`]+)`", readme)
    assert len(links) >= 3
    for link in links:
        lesson = read_lesson(dict(parse_qsl(link, keep_blank_values=True)))
        assert not lesson.problems, (link, lesson.problems)
