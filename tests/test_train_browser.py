"""The Train page in a real browser (Debian's Chromium through Playwright)
against a real Streamlit server: live progress, Stop, saving for the Draw page."""

import re
import time

import pytest
from playwright.sync_api import expect

from tests.test_screens_browser import settled_canvas_box

pytestmark = pytest.mark.browser

HANG_GUARD = 180  # seconds: only so that a broken page fails instead of hanging (not a speed claim)


def open_train_page(page, app_url, preset, note):
    """The Train page with `preset` chosen (`note`: words of the preset's description)."""
    page.goto(f"{app_url}/train")
    page.locator(".st-key-train-preset").get_by_text(preset, exact=True).click()
    expect(page.get_by_text(note)).to_be_visible()


def progress(page):
    """The first line of the progress box, e.g. 'Training · Epoch 1.4/2 · dev accuracy 95.2%'."""
    return page.locator(".st-key-train-progress").inner_text().split("\n")[0]


def number_after(word, text):
    found = re.search(rf"{word} (\d+(?:\.\d+)?)", text)
    return float(found.group(1)) if found else None


def poll(condition, what):
    """Wait until condition() holds, checking every 0.1 s."""
    deadline = time.monotonic() + HANG_GUARD
    while not condition():
        assert time.monotonic() < deadline, f"never {what}"
        time.sleep(0.1)


def watch_until(page, prefix, timeout=HANG_GUARD):
    """(time, line) for every distinct progress line until one starts with `prefix`."""
    deadline = time.monotonic() + timeout
    seen = [(time.monotonic(), progress(page))]
    while not seen[-1][1].startswith(prefix):
        assert time.monotonic() < deadline, f"no {prefix!r} within {timeout} s: {[line for _, line in seen]}"
        time.sleep(0.1)
        line = progress(page)
        if line != seen[-1][1]:
            seen.append((time.monotonic(), line))
    return seen


def test_fast_demo_learns_live_and_its_saved_model_reaches_the_draw_page(page, app_url):
    open_train_page(page, app_url, "Fast demo", "A good model in seconds")
    page.locator(".st-key-train-start button").click()
    lines = [line for _, line in watch_until(page, "Finished")]
    assert len(lines) >= 3, lines  # it changed while training, not only at the end
    assert number_after("dev accuracy", lines[-1]) >= 95, lines
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible()

    name = "fast demo from the browser"
    page.locator(".st-key-model-name input").fill(name)
    page.locator(".st-key-model-name input").press("Enter")
    page.locator(".st-key-save-model button").click()
    expect(page.get_by_text(f"Saved as “{name}”")).to_be_visible()

    page.goto(f"{app_url}/")
    # The Draw page sizes its canvas once the browser reports the window (one rerun): wait for it.
    settled_canvas_box(page)
    page.mouse.wheel(0, 400)  # the picker sits under the canvas: room below it for its list
    page.locator(".st-key-model-picker").click()
    expect(page.get_by_role("option", name=name)).to_be_visible()


def test_a_long_run_redraws_live_and_stops_at_once(page, app_url):
    open_train_page(page, app_url, "Seed", "The original notebook")
    page.locator(".st-key-train-start button").click()
    watch_until(page, "Training · Iteration")
    # The first chart comes with the first dev measurement: on a busy machine that takes more than 5 s.
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=HANG_GUARD * 1000)
    chart = page.locator("[data-testid='stVegaLiteChart']").first
    before, iteration = chart.screenshot(), number_after("Iteration", progress(page))
    poll(lambda: number_after("Iteration", progress(page)) >= iteration + 10, "10 more iterations")
    poll(lambda: chart.screenshot() != before, "a redrawn chart")

    clicked_at = number_after("Iteration", progress(page))
    page.locator(".st-key-train-stop button").click()
    seen = watch_until(page, "Stopped")  # then it measures test accuracy
    final = seen[-1][1]
    # The page may show a step or two late; that Stop waits only for the step in
    # progress is test_worker's to check, where the steps can be counted exactly.
    assert clicked_at <= number_after("Iteration", final) < 500, [line for _, line in seen]
    box = page.locator(".st-key-train-progress").inner_text()
    expect(page.get_by_role("heading", name="Results")).to_be_visible(timeout=HANG_GUARD * 1000)  # judged meanwhile
    assert page.locator(".st-key-train-progress").inner_text() == box  # it held still, while and after
    expect(page.locator(".st-key-train-stop button")).to_be_disabled()
