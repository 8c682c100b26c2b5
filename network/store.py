"""The store: classes, their students and every labelled drawing.

One small interface over the database (database.py: SQLite or PostgreSQL).
A drawing is kept as the 28x28 network input and as a PNG of the canvas
re-encoded from its decoded pixels (never the bytes a browser sent), with
its label, how the label was obtained, the network's reading, its class,
the student's anonymous id and the time.  Every write is one transaction:
a crash at any moment leaves the whole drawing or nothing.

A class is known by a short code read aloud in a room (CODE_ALPHABET has
no 0/O or 1/I); the teacher holds a long random token, of which the store
keeps only a hash.

Why one file of over 400 lines: every query the app makes of its data, in
one interface that SQLite and PostgreSQL share and one test suite checks.
"""

import hashlib
import hmac
import io
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from .database import Database, DatabaseError, database_location, migrate
from .errors import UserError

CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"   # no 0/O, no 1/I
CODE_LENGTH = 4
LABEL_SOURCES = ("prompt", "correction", "confirmed")
EXPIRES_SECONDS = 30 * 24 * 3600       # a class unused this long is gone
RATE_PER_MINUTE = 30                   # drawings one student may store per minute
MAX_CANVAS_SIDE = 1024                 # a canvas PNG is at most this wide and tall
NICKNAME_LENGTH = 24
MODELS_PER_STUDENT = 5                 # models one student may keep in a class
MODELS_PER_CLASS = 100


class StoreError(UserError):
    """A request the store refuses, with a message for the person who made it."""


@dataclass(frozen=True)
class ClassInfo:
    code: str
    created: float
    last_active: float
    closed: float | None

    @property
    def is_open(self):
        return self.closed is None


@dataclass(frozen=True)
class Drawing:
    id: int
    label: int
    label_source: str
    predicted: int | None
    confidence: float | None
    model: str
    student: str
    created: float
    pixels: np.ndarray          # float32 (28, 28) in [0, 1], as the network saw it

    @property
    def right(self):
        return self.predicted == self.label


@dataclass(frozen=True)
class ClassModel:
    id: str
    student: str        # its owner
    name: str
    recipe: str
    accuracy: float | None
    created: float


def normalise_code(text):
    """What a person typed as a class code: case, spaces and dashes ignored."""
    return "".join(ch for ch in str(text).upper() if ch.isalnum())[:16]


def _hash(token):
    return hashlib.sha256(token.encode()).hexdigest()


class Store:
    def __init__(self, db):
        self.db = db

    # -- classes -------------------------------------------------------------

    def open_class(self, now=None):
        """A new class: (code, teacher token).  The token is shown once and never stored."""
        now = time.time() if now is None else now
        token = secrets.token_urlsafe(24)
        with self.db.transaction(write=True) as cursor:
            for _ in range(100):
                code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
                if not cursor.one("SELECT 1 FROM classes WHERE code = ?", (code,)):
                    break
            else:
                raise StoreError("no free class code: purge old classes first")
            cursor.execute("INSERT INTO classes (code, teacher_hash, created, last_active) VALUES (?, ?, ?, ?)",
                           (code, _hash(token), now, now))
        return code, token

    def find_class(self, code, now=None):
        """The class with this code, open or closed; StoreError if there is none (or it expired)."""
        code = normalise_code(code)
        with self.db.transaction() as cursor:
            row = cursor.one("SELECT code, created, last_active, closed FROM classes WHERE code = ?", (code,))
        now = time.time() if now is None else now
        if row is None or row[2] < now - EXPIRES_SECONDS:
            raise StoreError(f"There is no class {code or '(empty)'}: check the code with your teacher "
                             "(classes expire after 30 days without drawings).")
        return ClassInfo(*row)

    def teacher_class(self, token):
        """The class this teacher token opens; StoreError for any other token."""
        token = str(token)[:200]
        with self.db.transaction() as cursor:
            row = cursor.one("SELECT code, teacher_hash FROM classes WHERE teacher_hash = ?", (_hash(token),))
        if row is None or not hmac.compare_digest(row[1], _hash(token)):
            raise StoreError("This teacher link is not valid: open a new class on the Class page.")
        return self.find_class(row[0])

    def join(self, code, student, nickname="", now=None):
        """Put a student in an open class; returns the class."""
        info = self.find_class(code, now)
        if not info.is_open:
            raise StoreError(f"Class {info.code} is closed: ask your teacher for the new code.")
        nickname = clean_nickname(nickname)
        now = time.time() if now is None else now
        with self.db.transaction(write=True) as cursor:
            cursor.execute("INSERT INTO students (class_code, student, nickname, joined) VALUES (?, ?, ?, ?) "
                           "ON CONFLICT (class_code, student) DO UPDATE SET nickname = excluded.nickname",
                           (info.code, _student(student), nickname, now))
        return info

    def close_class(self, token, now=None):
        info = self.teacher_class(token)
        with self.db.transaction(write=True) as cursor:
            cursor.execute("UPDATE classes SET closed = ? WHERE code = ? AND closed IS NULL",
                           (time.time() if now is None else now, info.code))

    def delete_class(self, token):
        """The class and everything in it, gone."""
        info = self.teacher_class(token)
        with self.db.transaction(write=True) as cursor:
            for table in ("drawings", "students", "models"):
                cursor.execute(f"DELETE FROM {table} WHERE class_code = ?", (info.code,))
            cursor.execute("DELETE FROM classes WHERE code = ?", (info.code,))

    def purge(self, older_than_seconds, now=None):
        """Delete classes without activity for this long, with their drawings; returns their codes."""
        cutoff = (time.time() if now is None else now) - older_than_seconds
        with self.db.transaction(write=True) as cursor:
            codes = [row[0] for row in cursor.all("SELECT code FROM classes WHERE last_active < ?", (cutoff,))]
            for code in codes:
                for table in ("drawings", "students", "models"):
                    cursor.execute(f"DELETE FROM {table} WHERE class_code = ?", (code,))
                cursor.execute("DELETE FROM classes WHERE code = ?", (code,))
        return codes

    def nicknames(self, code):
        """{student id: nickname} of a class's students who chose one."""
        with self.db.transaction() as cursor:
            return dict(cursor.all("SELECT student, nickname FROM students WHERE class_code = ? AND nickname != ''",
                                   (code,)))

    def counts(self, code):
        """(students, drawings) in a class."""
        with self.db.transaction() as cursor:
            students = cursor.one("SELECT count(*) FROM (SELECT student FROM students WHERE class_code = ? UNION "
                                  "SELECT student FROM drawings WHERE class_code = ? AND student != '') AS s",
                                  (code, code))[0]
            drawings = cursor.one("SELECT count(*) FROM drawings WHERE class_code = ?", (code,))[0]
        return students, drawings

    # -- drawings ------------------------------------------------------------

    def add_drawing(self, pixels, label, label_source, predicted=None, confidence=None, model="",
                    canvas=None, class_code=None, student="", now=None):
        """Store one labelled drawing; returns its id.

        `pixels` is the 28x28 network input in [0, 1]; `canvas` the decoded
        canvas (an image array) or None.  In a class, the class must be open
        and the student within RATE_PER_MINUTE.
        """
        now = time.time() if now is None else now
        row = (class_code, _student(student), _digit(label, "label"), _source(label_source),
               None if predicted is None else _digit(predicted, "reading"),
               None if confidence is None else float(confidence), str(model)[:200],
               encode_pixels(pixels), None if canvas is None else encode_canvas(canvas), now)
        with self.db.transaction(write=True) as cursor:
            if class_code is not None:
                found = cursor.one("SELECT closed, last_active FROM classes WHERE code = ?", (class_code,))
                if found is None or found[1] < now - EXPIRES_SECONDS:
                    raise StoreError(f"There is no class {class_code} any more.")
                if found[0] is not None:
                    raise StoreError(f"Class {class_code} is closed: your drawing was not kept.")
                cursor.execute("UPDATE classes SET last_active = ? WHERE code = ?", (now, class_code))
            if row[1]:
                recent = cursor.one("SELECT count(*) FROM drawings WHERE student = ? AND created > ?",
                                    (row[1], now - 60))[0]
                if recent >= RATE_PER_MINUTE:
                    raise StoreError(f"Slow down: at most {RATE_PER_MINUTE} drawings a minute are kept. "
                                     "Your drawing is read but not stored; try again in a moment.")
            return cursor.one(
                "INSERT INTO drawings (class_code, student, label, label_source, predicted, confidence, model, "
                "pixels, canvas_png, created) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id", row)[0]

    def redraw(self, drawing_id, student, pixels, predicted=None, confidence=None, model="", canvas=None,
               now=None):
        """A student's drawing, drawn on (each stroke): same id and label, new
        pixels and reading.  False if it is gone (the teacher removed it) or
        its class has closed: nothing is then stored."""
        values = (encode_pixels(pixels), None if canvas is None else encode_canvas(canvas),
                  None if predicted is None else _digit(predicted, "reading"),
                  None if confidence is None else float(confidence), str(model)[:200],
                  time.time() if now is None else now, int(drawing_id), _student(student))
        with self.db.transaction(write=True) as cursor:
            changed = cursor.execute(
                "UPDATE drawings SET pixels = ?, canvas_png = ?, predicted = ?, confidence = ?, model = ?, "
                "created = ? WHERE id = ? AND student = ? AND student != '' "
                "AND class_code IN (SELECT code FROM classes WHERE closed IS NULL)", values).rowcount
        return changed > 0

    def count_drawings(self, class_code=None):
        """Drawings in a class, or outside any class when class_code is None."""
        with self.db.transaction() as cursor:
            if class_code is None:
                return cursor.one("SELECT count(*) FROM drawings WHERE class_code IS NULL")[0]
            return cursor.one("SELECT count(*) FROM drawings WHERE class_code = ?", (class_code,))[0]

    def drawings(self, class_code=None, after_id=0, latest=None, ids=None):
        """A class's drawings (or those outside any class), oldest first;
        only those after `after_id`, only the `latest` few, or only `ids`."""
        where = "class_code IS NULL" if class_code is None else "class_code = ?"
        params = () if class_code is None else (class_code,)
        if ids is not None:
            ids = [int(i) for i in ids][:1000]
            if not ids:
                return []
            where += f" AND id IN ({', '.join('?' * len(ids))})"
            params += tuple(ids)
        sql = (f"SELECT id, label, label_source, predicted, confidence, model, student, created, pixels "
               f"FROM drawings WHERE {where} AND id > ? ORDER BY id")
        params += (int(after_id),)
        if latest is not None:
            sql = sql.replace("ORDER BY id", "ORDER BY id DESC LIMIT ?")
            params += (int(latest),)
        with self.db.transaction() as cursor:
            rows = cursor.all(sql, params)
        found = [Drawing(*row[:8], pixels=decode_pixels(row[8])) for row in rows]
        return sorted(found, key=lambda d: d.id)

    def every_drawing(self):
        """[(class code or None, Drawing)] of every drawing kept, oldest first: what fine-tuning learns from."""
        with self.db.transaction() as cursor:
            rows = cursor.all("SELECT class_code, id, label, label_source, predicted, confidence, model, student, "
                              "created, pixels FROM drawings ORDER BY id")
        return [(row[0], Drawing(*row[1:9], pixels=decode_pixels(row[9]))) for row in rows]

    def versions(self, class_code):
        """{id: time of its last stroke} of a class's drawings: cheap to ask
        every few seconds, it says which drawings are new, redrawn or gone."""
        with self.db.transaction() as cursor:
            return dict(cursor.all("SELECT id, created FROM drawings WHERE class_code = ?", (class_code,)))

    def canvas_png(self, drawing_id):
        with self.db.transaction() as cursor:
            row = cursor.one("SELECT canvas_png FROM drawings WHERE id = ?", (int(drawing_id),))
        return None if row is None or row[0] is None else bytes(row[0])

    def remove_drawing(self, token, drawing_id):
        """The teacher removes one of their class's drawings, for good; True if it was there."""
        info = self.teacher_class(token)
        with self.db.transaction(write=True) as cursor:
            gone = cursor.execute("DELETE FROM drawings WHERE id = ? AND class_code = ?",
                                  (int(drawing_id), info.code)).rowcount
        return gone > 0


    # -- models saved in a class ----------------------------------------------

    def add_model(self, model_id, class_code, student, name, recipe="", accuracy=None, now=None):
        """Record a model saved in a class (its file is already written)."""
        student = _student(student)
        if not student:
            raise StoreError("a model in a class needs its owner")
        with self.db.transaction(write=True) as cursor:
            found = cursor.one("SELECT closed FROM classes WHERE code = ?", (class_code,))
            if found is None or found[0] is not None:
                raise StoreError(f"Class {class_code} is closed or gone: the model was not saved in it.")
            mine = cursor.one("SELECT count(*) FROM models WHERE class_code = ? AND student = ?",
                              (class_code, student))[0]
            if mine >= MODELS_PER_STUDENT:
                raise StoreError(f"You have {MODELS_PER_STUDENT} models in this class already: delete one first.")
            if cursor.one("SELECT count(*) FROM models WHERE class_code = ?", (class_code,))[0] >= MODELS_PER_CLASS:
                raise StoreError(f"This class has {MODELS_PER_CLASS} models already: the teacher can delete some.")
            cursor.execute("INSERT INTO models (id, class_code, student, name, recipe, accuracy, created) "
                           "VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (str(model_id), class_code, student, str(name)[:80], str(recipe)[:200],
                            None if accuracy is None else float(accuracy), time.time() if now is None else now))

    def class_models(self, class_code):
        """A class's models, oldest first."""
        with self.db.transaction() as cursor:
            rows = cursor.all("SELECT id, student, name, recipe, accuracy, created FROM models "
                              "WHERE class_code = ? ORDER BY created, id", (class_code,))
        return [ClassModel(*row) for row in rows]

    def delete_model(self, model_id, student=None, token=None):
        """Its owner (student) or the class's teacher (token) deletes a model; True if it was deleted."""
        code = None if token is None else self.teacher_class(token).code
        with self.db.transaction(write=True) as cursor:
            if code is not None:
                gone = cursor.execute("DELETE FROM models WHERE id = ? AND class_code = ?",
                                      (str(model_id), code)).rowcount
            else:
                gone = cursor.execute("DELETE FROM models WHERE id = ? AND student = ? AND student != ''",
                                      (str(model_id), _student(student))).rowcount
        return gone > 0

    def set_recipes(self, token, recipes):
        """The recipes students of the teacher's class may train (None: all)."""
        code = self.teacher_class(token).code
        value = None if recipes is None else ",".join(str(r) for r in recipes)
        with self.db.transaction(write=True) as cursor:
            cursor.execute("UPDATE classes SET recipes = ? WHERE code = ?", (value, code))

    def recipes(self, class_code):
        """The recipes a class may train, or None for all."""
        with self.db.transaction() as cursor:
            row = cursor.one("SELECT recipes FROM classes WHERE code = ?", (class_code,))
        return None if row is None or row[0] is None else [r for r in row[0].split(",") if r]


def clean_nickname(text):
    """At most NICKNAME_LENGTH printable characters; shown only as plain text."""
    text = "".join(ch for ch in str(text) if ch.isprintable()).strip()
    return text[:NICKNAME_LENGTH]


def encode_pixels(pixels):
    pixels = np.asarray(pixels, dtype=np.float32)
    if pixels.shape != (28, 28) or not np.isfinite(pixels).all():
        raise StoreError("a drawing must be a 28x28 image")
    return (np.clip(pixels, 0, 1) * 255).round().astype(np.uint8).tobytes()


def decode_pixels(data):
    return np.frombuffer(bytes(data), dtype=np.uint8).reshape(28, 28).astype(np.float32) / 255


def encode_canvas(image):
    """A canvas (decoded pixels: grey, RGB or RGBA array) as a grey PNG,
    encoded here, so that nothing but pixels from the browser is kept."""
    image = np.asarray(image)
    if image.ndim not in (2, 3) or image.size == 0 or max(image.shape[:2]) > MAX_CANVAS_SIDE \
            or (image.ndim == 3 and image.shape[2] not in (1, 3, 4)):
        raise StoreError("the canvas is not an image of a sensible size")
    if image.dtype != np.uint8:
        image = np.clip(np.nan_to_num(image), 0, 255).astype(np.uint8)
    if image.ndim == 3:
        image = image[..., :3].max(axis=2) if image.shape[2] >= 3 else image[..., 0]
    buffer = io.BytesIO()
    # Not optimize=True: 8 ms a stroke instead of 1 ms, to save some 300 bytes.
    Image.fromarray(image, mode="L").save(buffer, format="PNG")
    return buffer.getvalue()


def _digit(value, what):
    try:
        digit = int(value)
    except (TypeError, ValueError):
        raise StoreError(f"the {what} must be a digit 0-9") from None
    if not 0 <= digit <= 9:
        raise StoreError(f"the {what} must be a digit 0-9")
    return digit


def _source(source):
    if source not in LABEL_SOURCES:
        raise StoreError(f"a label comes from one of {', '.join(LABEL_SOURCES)}")
    return source


def _student(student):
    return str(student or "")[:64]


# -- one store per database, per process --------------------------------------

_stores = {}
_stores_lock = threading.Lock()


def open_store(data_folder=None):
    """The store the app and the command line use: NETWORK_DATABASE_URL, or
    SQLite in the data folder.  The first open in a process brings the schema
    up to date and imports the drawings of data/drawings/ (once ever)."""
    from .drawings import import_drawings
    from .files import data_dir
    folder = Path(data_folder) if data_folder is not None else data_dir()
    location = database_location(folder)
    with _stores_lock:
        if location not in _stores:
            db = Database(location)
            try:
                migrate(db)
                store = Store(db)
                import_drawings(store, folder / "drawings")
            except BaseException:
                db.close()
                raise
            _stores[location] = store
        return _stores[location]


__all__ = ["Store", "StoreError", "DatabaseError", "ClassInfo", "ClassModel", "Drawing", "open_store", "normalise_code",
           "clean_nickname", "encode_canvas", "CODE_ALPHABET", "RATE_PER_MINUTE"]
