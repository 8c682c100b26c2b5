"""The database under the store: SQLite by default, PostgreSQL when asked.

    NETWORK_DATABASE_URL=postgresql://user@host/dbname   several app servers share it
    (unset)                                               data/store.sqlite3, no set-up

Both speak the same SQL, written once with `?` placeholders and three
type words ({id}, {blob}, {real}) that each database spells its own way.
A connection serves one thread at a time: `transaction()` takes one from a
small pool and gives it back, because Streamlit runs every rerun in a new
thread and opening a PostgreSQL connection per rerun would cost more than
the query.  The schema carries its version and upgrades itself on open.
"""

import os
import queue
import sqlite3
from contextlib import contextmanager
from pathlib import Path

from .errors import UserError

DATABASE_URL = "NETWORK_DATABASE_URL"
BUSY_SECONDS = 30     # how long a writer waits for another's lock before giving up
POOL_SIZE = 8

# How each database spells the types the schema needs.
TYPES = {
    "sqlite": {"id": "INTEGER PRIMARY KEY AUTOINCREMENT", "blob": "BLOB", "real": "DOUBLE PRECISION"},
    "postgresql": {"id": "BIGSERIAL PRIMARY KEY", "blob": "BYTEA", "real": "DOUBLE PRECISION"},
}


class DatabaseError(UserError):
    """The database cannot be opened or used (with a message a person can act on)."""


def database_location(data_folder):
    """NETWORK_DATABASE_URL when set, else the SQLite file in the data folder."""
    url = os.environ.get(DATABASE_URL, "").strip()
    if url:
        if not url.startswith(("postgresql://", "postgres://")):
            raise DatabaseError(f"{DATABASE_URL} must start with postgresql:// (got {url.split(':')[0]!r})")
        return url
    return str(Path(data_folder) / "store.sqlite3")


class Database:
    """A pool of connections to one database, and transactions on them."""

    def __init__(self, location):
        self.location = location
        self.kind = "postgresql" if location.startswith(("postgresql://", "postgres://")) else "sqlite"
        self._idle = queue.LifoQueue(POOL_SIZE)
        if self.kind == "sqlite":
            Path(location).parent.mkdir(parents=True, exist_ok=True)

    def _connect(self):
        if self.kind == "sqlite":
            # isolation_level=None: we say BEGIN ourselves, so that a writer
            # takes the write lock at once (BEGIN IMMEDIATE) instead of
            # upgrading a read lock later, which can deadlock two writers.
            try:
                conn = sqlite3.connect(self.location, timeout=BUSY_SECONDS, isolation_level=None,
                                       check_same_thread=False)
                conn.execute(f"PRAGMA busy_timeout = {BUSY_SECONDS * 1000}")
                conn.execute("PRAGMA journal_mode = WAL")     # readers never wait for the writer
                conn.execute("PRAGMA synchronous = NORMAL")   # with WAL: a crash loses no committed write
                conn.execute("PRAGMA foreign_keys = ON")
            except sqlite3.Error as error:
                raise DatabaseError(f"cannot open {self.location}: {_first_line(error)}") from None
            return conn
        import psycopg  # only deployments with PostgreSQL need it installed
        try:
            return psycopg.connect(self.location, connect_timeout=10)
        except psycopg.Error as error:
            raise DatabaseError(f"cannot reach PostgreSQL: {_first_line(error)}") from None

    @contextmanager
    def transaction(self, write=False):
        """A cursor whose statements commit together, or not at all."""
        try:
            conn = self._idle.get_nowait()
        except queue.Empty:
            conn = self._connect()
        healthy = True
        try:
            cursor = Cursor(conn, self.kind)
            if self.kind == "sqlite":
                conn.execute("BEGIN IMMEDIATE" if write else "BEGIN")
            yield cursor
            conn.commit()
        except BaseException as error:
            try:
                conn.rollback()
            except Exception:
                healthy = False
            if _is_database_error(error):
                raise DatabaseError(_refusal(error)) from error
            raise
        finally:
            if healthy and not getattr(conn, "closed", False):
                try:
                    self._idle.put_nowait(conn)
                    conn = None
                except queue.Full:
                    pass
            if conn is not None:
                conn.close()

    def close(self):
        while True:
            try:
                self._idle.get_nowait().close()
            except queue.Empty:
                return


def _is_database_error(error):
    """sqlite3's and psycopg's own errors (a full or read-only disk, a lost server)."""
    return isinstance(error, sqlite3.Error) or type(error).__module__.startswith("psycopg")


# A full or read-only disk, as each database names it: the store keeps nothing
# new, but what it holds is intact (the write's transaction was rolled back).
DISK_REFUSALS = {"SQLITE_FULL", "SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN", "DiskFull",
                 "ReadOnlySqlTransaction", "InsufficientResources"}


def _refusal(error):
    """What a person is told when the database refuses a transaction."""
    name = getattr(error, "sqlite_errorname", None) or type(error).__name__
    if name in DISK_REFUSALS or name.startswith("SQLITE_IOERR"):
        return ("the server cannot store anything just now (its disk is full or read-only); "
                "everything stored before is safe")
    return f"the database refused: {_first_line(error)}"


def _first_line(error):
    return (str(error).strip().splitlines() or [type(error).__name__])[0]


class Cursor:
    """Runs the store's SQL (`?` placeholders) on either database."""

    def __init__(self, conn, kind):
        self.conn, self.kind = conn, kind

    def execute(self, sql, params=()):
        if self.kind == "postgresql":
            return self.conn.execute(sql.replace("?", "%s"), params or None)
        return self.conn.execute(sql, params)

    def one(self, sql, params=()):
        return self.execute(sql, params).fetchone()

    def all(self, sql, params=()):
        return self.execute(sql, params).fetchall()


# -- the schema and its versions -------------------------------------------------
# Each migration takes the schema from the version before it to its own;
# an opened database runs those it has not had yet, in one transaction each.

MIGRATIONS = [
    (1, """
    CREATE TABLE classes (
        code TEXT PRIMARY KEY,
        teacher_hash TEXT NOT NULL UNIQUE,       -- sha256 of the teacher's token (the token is never stored)
        created {real} NOT NULL,
        last_active {real} NOT NULL,
        closed {real}                            -- when the teacher closed it, NULL while open
    );
    CREATE TABLE students (
        class_code TEXT NOT NULL REFERENCES classes(code) ON DELETE CASCADE,
        student TEXT NOT NULL,                   -- a random id kept in the browser session
        nickname TEXT NOT NULL DEFAULT '',
        joined {real} NOT NULL,
        PRIMARY KEY (class_code, student)
    );
    CREATE TABLE drawings (
        id {id},
        class_code TEXT REFERENCES classes(code) ON DELETE CASCADE,   -- NULL: drawn outside a class
        student TEXT NOT NULL DEFAULT '',
        label INTEGER NOT NULL CHECK (label BETWEEN 0 AND 9),
        label_source TEXT NOT NULL CHECK (label_source IN ('prompt', 'correction', 'confirmed')),
        predicted INTEGER CHECK (predicted BETWEEN 0 AND 9),
        confidence {real},                       -- the network's probability for its reading
        model TEXT NOT NULL DEFAULT '',
        pixels {blob} NOT NULL,                  -- the 28x28 network input, 784 bytes, row by row
        canvas_png {blob},                       -- the canvas, re-encoded from its decoded pixels
        created {real} NOT NULL,
        legacy_id TEXT UNIQUE                    -- the data/drawings/ id it was imported from
    );
    CREATE INDEX drawings_by_class ON drawings (class_code, id);
    CREATE INDEX drawings_by_student ON drawings (student, created);
    CREATE TABLE settings (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
    );
    """),
    (2, """
    CREATE TABLE models (
        id TEXT PRIMARY KEY,                     -- also the file's name: names never collide
        class_code TEXT NOT NULL REFERENCES classes(code) ON DELETE CASCADE,
        student TEXT NOT NULL,                   -- who saved it (its owner)
        name TEXT NOT NULL,                      -- the label people chose
        recipe TEXT NOT NULL DEFAULT '',
        accuracy {real},
        created {real} NOT NULL
    );
    CREATE INDEX models_by_class ON models (class_code, created);
    ALTER TABLE classes ADD COLUMN recipes TEXT
    """),
    # classes.recipes: the recipes a class's students may train, comma-separated; NULL: all.
    # (No comment inside an ALTER: SQLite copies the text into the table's definition.)
]


def schema_version(cursor):
    cursor.execute("CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL)")
    row = cursor.one("SELECT max(version) FROM schema_version")
    return row[0] or 0


def migrate(db, migrations=MIGRATIONS):
    """Bring the schema up to date; returns its version.  Safe when several
    servers start at once: each migration runs under the database's write
    lock (SQLite) or an advisory lock (PostgreSQL), and checks again inside."""
    version = 0
    for target, script in migrations:
        with db.transaction(write=True) as cursor:
            if db.kind == "postgresql":
                cursor.execute("SELECT pg_advisory_xact_lock(8008)")
            version = schema_version(cursor)
            if version >= target:
                continue
            for statement in script.format(**TYPES[db.kind]).split(";"):
                if statement.strip():
                    cursor.execute(statement)
            cursor.execute("INSERT INTO schema_version (version) VALUES (?)", (target,))
            version = target
    return version
