"""The Class page and the Draw page's class mode, through Streamlit's AppTest."""

import re
import sqlite3
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from network.database import Cursor, Database
from network.store import open_store
from tests.apptest import image_captions
from tests.drawn import STROKES, canvas_state, draw_digit
from ui.words import as_plain_text

APP = str(Path(__file__).resolve().parent.parent / "streamlit_app.py")


def class_page(token=None):
    at = AppTest.from_file(APP, default_timeout=60)
    at.switch_page("pages/class.py")
    if token is not None:
        at.query_params["teacher"] = token
    at.run()
    assert not at.exception, at.exception
    return at


def draw_page(code=None):
    at = AppTest.from_file(APP, default_timeout=60)
    if code is not None:
        at.query_params["class"] = code
    at.run()
    assert not at.exception, at.exception
    return at


def texts(at):
    return " ".join(m.value for m in at.markdown)


def asked_digit(at):
    found = re.search(r"Draw a (\d)", texts(at))
    return int(found.group(1)) if found else None


def draw(at, digit):
    at.session_state[f"canvas-{at.session_state['canvas_round'] if 'canvas_round' in at.session_state else 0}"] = \
        canvas_state(draw_digit(digit))
    at.run()
    assert not at.exception, at.exception


@pytest.fixture
def a_class(data_dir):
    code, token = open_store().open_class()
    return code, token


def test_opening_a_class_gives_a_code_a_qr_code_and_a_teacher_link(data_dir):
    at = class_page()
    assert at.title[0].value == "Class"
    at.button(key="class-open").click().run()
    assert not at.exception and not at.error
    token = at.query_params["teacher"]
    token = token[0] if isinstance(token, list) else token
    info = open_store().teacher_class(token)
    assert len(info.code) == 4 and info.code in texts(at)
    assert "0 drawings" in texts(at)
    assert any(f"/?class={info.code}" in c.value for c in at.code)
    assert any(f"/class?teacher={token}" in c.value for c in at.code)
    assert "Scan to join" in image_captions(at)   # the QR code


@pytest.mark.parametrize("forged", ["nope", "x" * 5000, "<script>alert(1)</script>"])
def test_a_forged_teacher_link_shows_nothing_of_any_class(a_class, forged):
    code, _ = a_class
    at = class_page(forged)
    assert any("not valid" in e.value for e in at.error)
    assert code not in texts(at) and "<script>" not in texts(at)
    assert at.button(key="class-open")


def test_a_student_joins_by_link_draws_the_prompted_digits_and_the_teacher_sees_them(a_class):
    code, token = a_class
    at = draw_page(code)
    assert at.text_input(key="class-join").value == code
    asked = []
    for _ in range(3):
        digit = asked_digit(at)
        assert digit is not None
        asked.append(digit)
        if digit not in STROKES:   # the test can draw 0, 1 and 7: a wrong digit is kept all the same
            draw(at, 1)
        else:
            draw(at, digit)
        assert any("Kept for the class" in m.value for m in list(at.success) + list(at.warning))
        at.button(key="clear-canvas").click().run()
    stored = open_store().drawings(code)
    assert [d.label for d in stored] == asked and {d.label_source for d in stored} == {"prompt"}
    assert len({d.student for d in stored}) == 1
    teacher = class_page(token)
    assert "3 drawings · 1 students" in texts(teacher)


@pytest.mark.parametrize("typed", ["<b>Ada</b> **[x](javascript:alert(1))**" + "x" * 10_000,
                                   "<img src=x onerror=alert(1)>"])
def test_a_nickname_is_trimmed_kept_and_shown_on_the_projector_as_plain_text(a_class, typed):
    code, token = a_class
    at = draw_page(code)
    at.session_state["class-nickname"] = typed   # a tampered page sends what it likes, max_chars or not
    at.run()
    assert not at.exception and not at.warning, at.warning
    draw(at, 1)
    (kept,) = open_store().nicknames(code).values()
    assert kept == typed[:24]
    teacher = class_page(token)
    (shown,) = {c for c in image_captions(teacher) if c.startswith(("✓", "✗"))}   # gallery, maybe "fooled"
    assert shown.endswith(" · " + as_plain_text(kept))   # every mark escaped: Markdown shows it as typed
    assert "<b>" not in texts(teacher) and "<img" not in texts(teacher)


def test_without_a_nickname_the_projector_shows_none(a_class):
    code, token = a_class
    draw(draw_page(code), 1)
    assert open_store().nicknames(code) == {}
    (shown,) = {c for c in image_captions(class_page(token)) if c.startswith(("✓", "✗"))}
    assert "·" not in shown


def test_more_strokes_redraw_the_same_kept_drawing(a_class):
    code, _ = a_class
    at = draw_page(code)
    digit = asked_digit(at)
    draw(at, 1)
    draw(at, 7)   # the student drew on
    (kept,) = open_store().drawings(code)
    assert kept.label == digit and kept.predicted == 7
    assert asked_digit(at) == digit   # the same prompt until Clear


def test_a_round_reads_without_the_explanation_pictures_until_asked(a_class):
    code, _ = a_class
    at = draw_page(code)
    draw(at, 7)
    assert "I read a **7**" in texts(at)
    assert not image_captions(at)   # a class's readings stay cheap for the server
    at.toggle(key="draw-explain").set_value(True).run()
    captions = image_captions(at)
    assert "centred (28x28)" in captions and any(c.startswith("Saliency for 7") for c in captions)
    at.button(key="clear-canvas").click().run()
    draw(at, 1)
    assert any(c.startswith("Saliency for 1") for c in image_captions(at))   # the choice lasts the round


def test_a_code_typed_in_the_box_joins_and_a_wrong_one_says_so(a_class):
    code, _ = a_class
    at = draw_page()
    assert asked_digit(at) is None
    at.text_input(key="class-join").input("zzzz").run()
    assert any("no class ZZZZ" in e.value for e in at.error)
    assert asked_digit(at) is None
    at.text_input(key="class-join").input(code.lower()).run()
    assert not at.error and asked_digit(at) is not None
    at.text_input(key="class-join").input("").run()
    assert asked_digit(at) is None


def test_a_closed_class_takes_no_drawings(a_class):
    code, token = a_class
    at = draw_page(code)
    open_store().close_class(token)
    draw(at, 1)
    assert any("closed" in e.value for e in at.error)
    assert open_store().count_drawings(code) == 0


def test_free_drawing_corrections_in_a_class_go_to_the_class(a_class):
    code, _ = a_class
    at = draw_page(code)
    at.segmented_control(key="class-mode").set_value("Free drawing").run()
    assert asked_digit(at) is None
    draw(at, 7)
    at.session_state["correct-digit"] = 1
    at.run()
    at.button(key="save-correction").click().run()
    (saved,) = open_store().drawings(code)
    assert saved.label == 1 and saved.label_source == "correction" and saved.student
    assert open_store().count_drawings() == 0


def test_the_teacher_removes_a_drawing_with_one_click(a_class):
    code, token = a_class
    student = draw_page(code)
    draw(student, 1)
    (drawing,) = open_store().drawings(code)
    teacher = class_page(token)
    assert "1 drawings" in texts(teacher)
    teacher.button(key=f"remove-gallery-{drawing.id}").click().run()
    assert not teacher.exception
    assert open_store().count_drawings(code) == 0
    assert "0 drawings" in texts(teacher)
    draw(student, 7)   # the student draws on: the removed drawing does not come back
    assert open_store().count_drawings(code) == 0


def test_the_teacher_closes_the_class(a_class):
    code, token = a_class
    teacher = class_page(token)
    teacher.button(key="class-close").click().run()
    assert not open_store().find_class(code).is_open
    assert any("closed" in w.value for w in teacher.warning)
    student = draw_page(code)
    assert any("closed" in e.value for e in student.error) and asked_digit(student) is None


def class_model(code, student, name):
    from network.classmodels import save_class_model
    from network.training import PRESETS, new_network
    return save_class_model(open_store(), new_network(PRESETS["fast"]), {"metrics": {"test_accuracy": 0.9}},
                            code, student, name, "fast")


def test_in_a_class_the_picker_shows_the_shipped_models_and_the_class_s(a_class, data_dir):
    code, _ = a_class
    (data_dir / "models").mkdir()
    (data_dir / "models" / "someone elses.npz").write_bytes(b"not shown in a class")
    class_model(code, "another student", "my model")
    at = draw_page(code)
    options = at.selectbox(key="model-picker").options
    assert "my model · 90.0% (class)" in options and any(o.startswith("Default") for o in options)
    assert "someone elses" not in options
    at.selectbox(key="model-picker").select("my model · 90.0% (class)").run()
    assert not at.exception and not at.error
    draw(at, 1)
    assert "I read a" in texts(at)
    (kept,) = open_store().drawings(code)
    assert kept.model == "my model · 90.0% (class)"


def test_the_train_page_in_a_class_learns_from_its_drawings_and_lists_my_models(a_class):
    code, _ = a_class
    at = draw_page(code)
    student = at.session_state["student_id"]
    mine = class_model(code, student, "mine")
    at.switch_page("pages/train.py").run()
    assert not at.exception
    at.radio(key="train-data").set_value("The class's drawings").run()
    assert any("at least 20" in w.value for w in at.warning)
    for i in range(20):
        open_store().add_drawing(draw_digit_pixels(i % 10), i % 10, "prompt", class_code=code, student=f"s{i}")
    at.run()
    assert any(f"20 drawings of class {code}" in c.value for c in at.caption)
    assert not at.button(key="train-start").disabled
    assert any(t.value.startswith("mine") for t in at.text)
    at.button(key=f"delete-model-{mine}").click().run()
    assert open_store().class_models(code) == []


def test_the_teacher_limits_the_recipes_and_deletes_any_model(a_class):
    code, token = a_class
    model = class_model(code, "a student", "rude name")
    teacher = class_page(token)
    teacher.multiselect(key="class-recipes").set_value(["fast", "seed"]).run()
    assert open_store().recipes(code) == ["fast", "seed"]
    teacher.button(key=f"teacher-delete-model-{model}").click().run()
    assert open_store().class_models(code) == []
    student = draw_page(code)
    student.switch_page("pages/train.py").run()
    assert student.radio(key="train-preset").options == ["Fast demo", "Seed"]


def draw_digit_pixels(digit):
    from network.preprocess import canvas_to_mnist
    return canvas_to_mnist(draw_digit(digit if digit in STROKES else 1), ink="light").pixels


def data_url_state(payload):
    import base64
    return {"drawing": {"raw": {"objects": []}, "data": "data:image/png;base64," + base64.b64encode(payload).decode()}}


def png_bytes(image):
    import io
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize("payload", ["huge", "not an image", "cut short", "padded"])
def test_a_forged_canvas_is_read_as_an_empty_one_and_nothing_is_kept(a_class, payload):
    from PIL import Image
    code, _ = a_class
    drawn = png_bytes(Image.fromarray(draw_digit(7)))
    data = {"huge": png_bytes(Image.new("L", (12000, 12000))), "not an image": b"<script>alert(1)</script>" * 100,
            "cut short": drawn[: len(drawn) // 2], "padded": drawn + b"\0" * (5 * 1024 * 1024)}[payload]
    at = draw_page(code)
    at.session_state["canvas-0"] = data_url_state(data)
    at.run()
    assert not at.exception
    assert "I read a" not in texts(at) and any("Draw a digit in the black square" in i.value for i in at.info)
    assert open_store().count_drawings(code) == 0


def refuse_writes(monkeypatch, disk):
    """From now on the store refuses every write as SQLite does on a
    read-only disk (its own refusal: query_only) or a full one (the error
    SQLite raises then, SQLITE_FULL, raised by each write statement); works
    as root, which a read-only folder would not stop."""
    connect, execute = Database._connect, Cursor.execute

    def read_only(self):
        conn = connect(self)
        conn.execute("PRAGMA query_only = ON")
        return conn

    def full(self, sql, params=()):
        if sql.lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE")):
            error = sqlite3.OperationalError("database or disk is full")
            error.sqlite_errorname = "SQLITE_FULL"
            raise error
        return execute(self, sql, params)

    if disk == "full":
        monkeypatch.setattr(Cursor, "execute", full)
    else:
        monkeypatch.setattr(Database, "_connect", read_only)
    open_store().db.close()   # the pooled connections: new ones refuse
    return lambda: (monkeypatch.setattr(Database, "_connect", connect), monkeypatch.setattr(Cursor, "execute", execute))


@pytest.mark.parametrize("disk", ["read-only", "full"])
def test_a_full_or_read_only_disk_refuses_the_drawing_clearly_and_loses_nothing(a_class, monkeypatch, disk):
    code, token = a_class
    at = draw_page(code)
    draw(at, 1)
    before = open_store().drawings(code)
    at.button(key="clear-canvas").click().run()
    disk_back = refuse_writes(monkeypatch, disk)
    draw(at, 7)
    assert any("cannot store anything just now (its disk is full or read-only)" in e.value for e in at.error), \
        [e.value for e in at.error]
    assert "I read a **7**" in texts(at)   # the page keeps working: the drawing is read all the same
    at.segmented_control(key="class-mode").set_value("Free drawing").run()
    at.session_state["correct-digit"] = 1
    at.run()
    at.button(key="save-correction").click().run()
    assert not at.exception, at.exception
    assert any("Could not save the drawing: the server cannot store" in e.value for e in at.error)
    after = open_store().drawings(code)
    assert [(d.id, d.label, d.created) for d in after] == [(d.id, d.label, d.created) for d in before]
    assert (after[0].pixels == before[0].pixels).all()   # nothing stored is lost or torn
    assert "1 drawings" in texts(class_page(token))   # and the projector still reads the class
    disk_back()
    open_store().db.close()
    at.segmented_control(key="class-mode").set_value("Draw this").run()
    draw(at, 1)
    assert not at.error, [e.value for e in at.error]
    assert open_store().count_drawings(code) == 2
