"""The store, on SQLite and on PostgreSQL alike (every test runs on both)."""

import csv
import io
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from network.database import MIGRATIONS, Database, DatabaseError, migrate
from network.drawings import import_drawings
from network.store import CODE_ALPHABET, RATE_PER_MINUTE, Store, StoreError, normalise_code, open_store
from tests.store_writer import canvas as writer_canvas
from tests.store_writer import pattern

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def store(database_location):
    db = Database(database_location)
    migrate(db)
    yield Store(db)
    db.close()


def pixels(seed=0):
    return np.random.default_rng(seed).random((28, 28), dtype=np.float32)


def test_the_schema_is_versioned_and_migrates_once_keeping_what_is_there(database_location):
    db = Database(database_location)
    assert migrate(db, MIGRATIONS[:1]) == 1
    code, token = Store(db).open_class()
    Store(db).add_drawing(pixels(), 3, "correction")
    assert migrate(db) == len(MIGRATIONS) == 2   # version 2 adds class models and allowed recipes
    assert migrate(db) == 2
    with db.transaction() as cursor:
        assert cursor.one("SELECT count(*) FROM schema_version")[0] == 2
        assert cursor.one("SELECT label FROM drawings") == (3,)
        assert cursor.one("SELECT code, recipes FROM classes") == (code, None)
    later = MIGRATIONS + [(3, "ALTER TABLE drawings ADD COLUMN note TEXT NOT NULL DEFAULT ''")]
    assert migrate(db, later) == 3
    with db.transaction() as cursor:
        assert cursor.one("SELECT label, note FROM drawings") == (3, "")
    db.close()


def test_a_class_has_a_code_to_read_aloud_and_a_secret_teacher_token(store):
    code, token = store.open_class()
    assert len(code) == 4 and set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("0O1I")
    assert len(token) >= 32
    assert store.teacher_class(token).code == code
    assert store.find_class(f" {code[:2].lower()}-{code[2:]} ").code == code
    with store.db.transaction() as cursor:   # only a hash of the token is kept
        assert token not in str(cursor.all("SELECT * FROM classes"))


def test_codes_differ(store):
    codes = {store.open_class()[0] for _ in range(30)}
    assert len(codes) == 30


@pytest.mark.parametrize("forged", ["", "x" * 32, "A" * 10_000, "' OR 1=1 --"])
def test_a_forged_teacher_token_opens_nothing(store, forged):
    code, token = store.open_class()
    drawing = store.add_drawing(pixels(), 1, "prompt", class_code=code, student="s1")
    with pytest.raises(StoreError, match="not valid"):
        store.teacher_class(forged)
    with pytest.raises(StoreError):
        store.remove_drawing(forged, drawing)
    with pytest.raises(StoreError):
        store.close_class(forged)
    assert store.count_drawings(code) == 1 and store.find_class(code).is_open


def test_joining_a_wrong_closed_or_expired_class_is_refused(store):
    with pytest.raises(StoreError, match="no class ZZZZ"):
        store.join("zzzz", "s1")
    code, token = store.open_class(now=time.time() - 40 * 86400)
    with pytest.raises(StoreError, match="expire"):
        store.join(code, "s1")
    code, token = store.open_class()
    store.join(code, "s1", nickname="Ada")
    store.close_class(token)
    with pytest.raises(StoreError, match="closed"):
        store.join(code, "s2")
    with pytest.raises(StoreError, match="closed"):
        store.add_drawing(pixels(), 1, "prompt", class_code=code, student="s1")
    assert store.counts(code) == (1, 0)


def test_a_nickname_is_short_plain_text(store):
    code, _ = store.open_class()
    store.join(code, "s1", nickname="<script>alert(1)</script>" + "x" * 10_000 + "\x00\n")
    with store.db.transaction() as cursor:
        (nickname,) = cursor.one("SELECT nickname FROM students")
    assert len(nickname) == 24 and "\x00" not in nickname
    store.join(code, "s2")
    assert store.nicknames(code) == {"s1": nickname}   # who chose none has none
    store.join(code, "s1", nickname="Ada")            # changed
    assert store.nicknames(code) == {"s1": "Ada"}


def test_a_drawing_keeps_everything_about_it(store):
    code, _ = store.open_class()
    store.join(code, "s1")
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[100:180, 130:150, :3] = 255
    drawn = pixels(1)
    drawing_id = store.add_drawing(drawn, 7, "prompt", predicted=1, confidence=0.8, model="Default",
                                   canvas=rgba, class_code=code, student="s1")
    (found,) = store.drawings(code)
    assert found.id == drawing_id and found.label == 7 and found.label_source == "prompt"
    assert found.predicted == 1 and found.confidence == pytest.approx(0.8) and not found.right
    assert found.model == "Default" and found.student == "s1" and abs(found.created - time.time()) < 60
    assert np.abs(found.pixels - drawn).max() <= 0.5 / 255 + 1e-6
    png = store.canvas_png(drawing_id)
    assert png.startswith(b"\x89PNG")
    with Image.open(io.BytesIO(png)) as image:
        assert image.size == (280, 280) and image.mode == "L"
        assert np.array_equal(np.asarray(image), rgba[..., :3].max(axis=2))
    assert store.counts(code) == (1, 1)
    assert store.count_drawings() == 0   # not counted outside the class


@pytest.mark.parametrize("bad", [dict(label=10), dict(label="seven"), dict(label_source="guess"),
                                 dict(pixels=np.zeros((27, 28))), dict(pixels=np.full((28, 28), np.nan)),
                                 dict(canvas=np.zeros((5000, 10), np.uint8)), dict(canvas=np.zeros((3, 3, 7))),
                                 dict(predicted=11)])
def test_a_bad_drawing_is_refused_and_nothing_is_stored(store, bad):
    args = dict(pixels=pixels(), label=3, label_source="correction", predicted=None, canvas=None) | bad
    with pytest.raises(StoreError):
        store.add_drawing(**args)
    assert store.count_drawings() == 0


def test_one_student_is_rate_limited_and_the_class_goes_on(store):
    code, _ = store.open_class()
    for i in range(RATE_PER_MINUTE):
        store.add_drawing(pixels(i), i % 10, "prompt", class_code=code, student="fast")
    with pytest.raises(StoreError, match="Slow down"):
        store.add_drawing(pixels(), 1, "prompt", class_code=code, student="fast")
    store.add_drawing(pixels(), 1, "prompt", class_code=code, student="other")
    store.add_drawing(pixels(), 1, "prompt", class_code=code, student="fast", now=time.time() + 61)
    assert store.count_drawings(code) == RATE_PER_MINUTE + 2


def test_the_teacher_removes_a_drawing_for_good_and_only_in_their_class(store):
    code, token = store.open_class()
    other_code, other_token = store.open_class()
    mine = store.add_drawing(pixels(), 1, "prompt", class_code=code, student="s1")
    kept = store.add_drawing(pixels(), 2, "prompt", class_code=code, student="s1")
    theirs = store.add_drawing(pixels(), 3, "prompt", class_code=other_code, student="s2")
    assert not store.remove_drawing(token, theirs)
    assert store.remove_drawing(token, mine)
    assert not store.remove_drawing(token, mine)
    assert [d.id for d in store.drawings(code)] == [kept]
    assert [d.id for d in store.drawings(other_code)] == [theirs]


def test_drawings_after_an_id_and_the_latest_few(store):
    code, _ = store.open_class()
    ids = [store.add_drawing(pixels(i), i % 10, "prompt", class_code=code, student=f"s{i}") for i in range(6)]
    assert [d.id for d in store.drawings(code, after_id=ids[3])] == ids[4:]
    assert [d.id for d in store.drawings(code, latest=2)] == ids[-2:]


def test_purge_deletes_idle_classes_with_their_drawings(store):
    old, _ = store.open_class(now=time.time() - 31 * 86400)
    store.add_drawing(pixels(), 1, "prompt", class_code=old, student="s", now=time.time() - 31 * 86400)
    recent, _ = store.open_class()
    store.add_drawing(pixels(), 1, "prompt", class_code=recent, student="s")
    store.add_drawing(pixels(), 1, "correction")   # outside any class: never purged
    assert store.purge(30 * 86400) == [old]
    with pytest.raises(StoreError):
        store.find_class(old)
    assert store.count_drawings(recent) == 1 and store.count_drawings() == 1


def _writers(location, n_writers, count):
    """Writer processes, started together once all are ready."""
    writers = [subprocess.Popen([sys.executable, "-m", "tests.store_writer", location, str(w), str(count)],
                                cwd=ROOT, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                text=True)
               for w in range(n_writers)]
    for writer in writers:
        assert writer.stdout.readline() == "ready\n", writer.stderr.read()
    for writer in writers:
        writer.stdin.write("go\n")
        writer.stdin.flush()
    return writers


def _check_untorn(store):
    """Every stored drawing is whole: pixels, label and canvas all say the same (writer, i)."""
    rows = store.drawings()
    for drawing in rows:
        writer, i = map(int, drawing.model.split("-"))
        assert drawing.label == (writer + i) % 10 and drawing.predicted == i % 10
        assert np.abs(drawing.pixels - pattern(writer, i)).max() < 1e-6
    for drawing in rows[:: max(1, len(rows) // 50)]:
        with Image.open(io.BytesIO(store.canvas_png(drawing.id))) as image:
            assert np.array_equal(np.asarray(image), writer_canvas(*map(int, drawing.model.split("-"))))
    return rows


@pytest.mark.slow
def test_eight_processes_writing_at_once_lose_nothing_and_tear_nothing(store, database_location):
    writers = _writers(database_location, 8, 500)
    for writer in writers:
        _, err = writer.communicate(timeout=600)
        assert writer.returncode == 0, err[-2000:]
    rows = _check_untorn(store)
    assert len(rows) == 8 * 500
    assert {d.model for d in rows} == {f"{w}-{i}" for w in range(8) for i in range(500)}


@pytest.mark.slow
def test_a_writer_killed_at_any_moment_leaves_whole_drawings(store, database_location):
    for round_ in range(3):
        (writer,) = _writers(database_location, 1, 10_000)
        writer.stdout.readline()   # writing has started
        time.sleep(0.05 * round_)
        os.kill(writer.pid, signal.SIGKILL)
        writer.wait()
        for pipe in (writer.stdin, writer.stdout, writer.stderr):
            pipe.close()
    rows = _check_untorn(store)
    assert rows   # the writes before each kill are there, whole
    if store.db.kind == "sqlite":
        with store.db.transaction() as cursor:
            assert cursor.one("PRAGMA integrity_check")[0] == "ok"


def _legacy_folder(folder, n):
    """data/drawings/ as earlier versions wrote it."""
    folder.mkdir(parents=True)
    lines = [["id", "label", "predicted", "model", "created"]]
    for i in range(n):
        drawing_id = f"20261101-1200{i:02d}-abc{i:03d}"
        Image.fromarray((pattern(9, i) * 255).round().astype(np.uint8)).save(folder / f"{drawing_id}-28x28.png")
        Image.fromarray(np.full((280, 280, 4), 200, np.uint8)).save(folder / f"{drawing_id}-canvas.png")
        lines.append([drawing_id, i % 10, (i + 1) % 10, "Default", f"2026-11-01T12:00:{i:02d}+00:00"])
    lines.append(["cut-short", "4"])   # a line a crash cut short
    with (folder / "index.csv").open("w", newline="") as f:
        csv.writer(f).writerows(lines)


def test_earlier_drawings_are_imported_once_and_nothing_is_lost(store, tmp_path):
    _legacy_folder(tmp_path / "drawings", 5)
    assert import_drawings(store, tmp_path / "drawings") == 5
    assert import_drawings(store, tmp_path / "drawings") == 0
    rows = store.drawings()
    assert [(d.label, d.predicted, d.label_source) for d in rows] == [(i % 10, (i + 1) % 10, "correction")
                                                                         for i in range(5)]
    for i, drawing in enumerate(rows):
        assert np.abs(drawing.pixels - pattern(9, i)).max() < 1e-6
        with Image.open(io.BytesIO(store.canvas_png(drawing.id))) as image:
            assert image.mode == "L" and image.size == (280, 280)
    assert len(list((tmp_path / "drawings").glob("*.png"))) == 10   # the files stay


def test_open_store_uses_sqlite_in_the_data_folder_and_imports(tmp_path, monkeypatch):
    monkeypatch.delenv("NETWORK_DATABASE_URL", raising=False)
    _legacy_folder(tmp_path / "drawings", 3)
    store = open_store(tmp_path)
    assert store.db.kind == "sqlite" and (tmp_path / "store.sqlite3").exists()
    assert store.count_drawings() == 3
    assert open_store(tmp_path) is store


def test_open_store_uses_postgresql_when_asked(postgres_server, tmp_path, monkeypatch):
    monkeypatch.setenv("NETWORK_DATABASE_URL", postgres_server())
    store = open_store(tmp_path)
    assert store.db.kind == "postgresql"
    assert not (tmp_path / "store.sqlite3").exists()


def test_a_database_url_that_is_not_postgresql_is_refused(tmp_path, monkeypatch):
    monkeypatch.setenv("NETWORK_DATABASE_URL", "mysql://root@localhost/x")
    with pytest.raises(DatabaseError, match="postgresql://"):
        open_store(tmp_path)


def test_an_unreachable_postgresql_gives_a_message(tmp_path):
    db = Database(f"postgresql://app@/none?host={tmp_path}&port=1")
    with pytest.raises(DatabaseError, match="cannot reach PostgreSQL"):
        with db.transaction():
            pass


def test_normalise_code():
    assert normalise_code(" k7q-2\n") == "K7Q2"
    assert normalise_code("<b>" * 100) == "BBBBBBBBBBBBBBBB"


def test_models_in_a_class_belong_to_their_owner_and_the_teacher(store):
    code, token = store.open_class()
    other, other_token = store.open_class()
    store.add_model("a" * 16, code, "ann", "my model", "fast", 0.96)
    store.add_model("b" * 16, code, "bob", "my model", "fast", None)   # the same name: no collision
    assert [(m.name, m.student) for m in store.class_models(code)] == [("my model", "ann"), ("my model", "bob")]
    assert store.class_models(other) == []
    assert not store.delete_model("a" * 16, student="bob")
    assert not store.delete_model("a" * 16, token=other_token)
    assert store.delete_model("a" * 16, student="ann")
    assert store.delete_model("b" * 16, token=token)
    assert store.class_models(code) == []
    with pytest.raises(StoreError):
        store.delete_model("b" * 16, token="forged")


def test_a_student_keeps_a_few_models_and_none_in_a_closed_class(store):
    from network.store import MODELS_PER_STUDENT
    code, token = store.open_class()
    for i in range(MODELS_PER_STUDENT):
        store.add_model(f"{i:016x}", code, "ann", f"m{i}")
    with pytest.raises(StoreError, match="delete one"):
        store.add_model("f" * 16, code, "ann", "one more")
    store.close_class(token)
    with pytest.raises(StoreError, match="closed"):
        store.add_model("e" * 16, code, "bob", "late")


def test_the_teacher_limits_the_recipes(store):
    code, token = store.open_class()
    assert store.recipes(code) is None
    store.set_recipes(token, ["fast", "seed"])
    assert store.recipes(code) == ["fast", "seed"]
    store.set_recipes(token, None)
    assert store.recipes(code) is None
    with pytest.raises(StoreError):
        store.set_recipes("forged", [])


def test_a_read_only_database_refuses_each_write_plainly_and_keeps_what_it_has(store, monkeypatch):
    code, token = store.open_class()
    first = store.add_drawing(pixels(1), 1, "prompt", class_code=code, student="s1")
    connect = Database._connect

    def read_only(db):   # what a read-only disk does to each database (SQLite's own refusal; PostgreSQL's)
        conn = connect(db)
        conn.execute("PRAGMA query_only = ON" if db.kind == "sqlite" else "SET default_transaction_read_only = on")
        if db.kind == "postgresql":
            conn.commit()
        return conn

    monkeypatch.setattr(Database, "_connect", read_only)
    store.db.close()
    for write in (lambda: store.add_drawing(pixels(2), 2, "prompt", class_code=code, student="s1"),
                  lambda: store.redraw(first, "s1", pixels(3), 3),
                  lambda: store.join(code, "s2", nickname="Ada"),
                  lambda: store.remove_drawing(token, first)):
        with pytest.raises(DatabaseError, match=r"cannot store anything just now \(its disk is full or read-only\)"):
            write()
    (kept,) = store.drawings(code)   # reading still works, and nothing was lost or torn
    assert kept.id == first and kept.label == 1 and np.allclose(kept.pixels, pixels(1), atol=1 / 255)
