"""How the app is started: `make app` on a chosen port, Streamlit's settings."""

import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_app_takes_a_port():
    dry_run = subprocess.run(["make", "-n", "-W", "requirements.txt", "app", "PORT=8502"], cwd=ROOT,
                             capture_output=True, text=True, check=True).stdout
    assert "streamlit run streamlit_app.py --server.port 8502" in dry_run
    default = subprocess.run(["make", "-n", "app"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    assert "--server.port 8501" in default


def test_streamlit_settings_turn_usage_statistics_off_and_set_the_theme():
    settings = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert settings["browser"]["gatherUsageStats"] is False
    assert settings["theme"]["base"] == "light" and settings["theme"]["primaryColor"]
