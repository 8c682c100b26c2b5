"""A class in real Chromium: the teacher opens it, three students join by
link (one with a touch screen) and draw the digits asked for, the projector
shows them, the teacher removes one, and the CSV export reads back."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from playwright.sync_api import Page, expect

from tests.drawn import STROKES
from tests.test_draw_browser import canvas, draw_with_mouse

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ROOT = Path(__file__).resolve().parent.parent
DRAWINGS_EACH = 4


def draw_with_finger(page: Page, digit, clears=0):
    """The digit's strokes as touch events, as a phone sends them."""
    expect(canvas(page, clears)).to_be_visible(timeout=15_000)
    canvas(page, clears).scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    box = canvas(page, clears).bounding_box()
    scale = box["width"] / 280
    touch = page.context.new_cdp_session(page)

    def point(x, y):
        return [{"x": box["x"] + x * scale, "y": box["y"] + y * scale}]

    for stroke in STROKES[digit]:
        touch.send("Input.dispatchTouchEvent", {"type": "touchStart", "touchPoints": point(*stroke[0])})
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for t in (0.25, 0.5, 0.75, 1.0):
                touch.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": point(
                    x0 + t * (x1 - x0), y0 + t * (y1 - y0))})
        touch.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    touch.detach()


def draw_until_read(page: Page, digit, clears=0, draw=draw_with_mouse):
    """Draw the digit; if no reading comes, draw it again, as a student would
    (a canvas that has just appeared sometimes misses the first stroke)."""
    for attempt in range(3):
        draw(page, digit, clears)
        try:
            expect(page.locator(".st-key-prediction")).to_contain_text("I read a", timeout=10_000)
            return
        except AssertionError:
            if attempt == 2:
                raise


def asked_digit(page: Page):
    prompt = page.locator(".st-key-draw-prompt")
    expect(prompt).to_contain_text("Draw a", timeout=15_000)
    return int(re.search(r"Draw a (\d)", prompt.inner_text()).group(1))


def drawings_shown(teacher: Page, n):
    expect(teacher.locator(".st-key-class-count")).to_contain_text(f"{n} drawings", timeout=20_000)


def open_class_as_teacher(browser, app_url):
    """A projector's page (1280x720) with a new class open on it; (page, code)."""
    teacher = browser.new_page(viewport={"width": 1280, "height": 720})
    teacher.goto(f"{app_url}/class")
    teacher.locator(".st-key-class-open button").click()
    expect(teacher.locator(".st-key-class-code")).to_have_text(re.compile(r"[A-Z2-9]{4}"), timeout=15_000)
    code = re.sub(r"\s", "", teacher.locator(".st-key-class-code").inner_text())
    assert re.fullmatch(r"[A-HJ-NP-Z2-9]{4}", code), code
    assert "teacher=" in teacher.url
    drawings_shown(teacher, 0)
    return teacher, code


def test_a_class_draws_the_teacher_watches_removes_one_and_exports(browser, app_url, app_data_dir, tmp_path):
    teacher, code = open_class_as_teacher(browser, app_url)

    students = [browser.new_context(viewport={"width": 1280, "height": 900}),
                browser.new_context(viewport={"width": 1280, "height": 900}),
                browser.new_context(viewport={"width": 412, "height": 915}, has_touch=True, is_mobile=True)]
    pages = []
    for context in students:
        page = context.new_page()
        page.goto(f"{app_url}/?class={code}")
        expect(page.locator(".st-key-class-join input")).to_have_value(code, timeout=30_000)
        pages.append(page)

    asked = []
    for round_ in range(DRAWINGS_EACH):
        for number, page in enumerate(pages):
            digit = asked_digit(page)
            asked.append(digit)
            draw_until_read(page, digit, round_, draw_with_finger if number == 2 else draw_with_mouse)
            expect(page.get_by_text("Kept for the class")).to_be_visible(timeout=15_000)
            page.locator(".st-key-clear-canvas button").click()
            expect(page.locator(f".st-key-canvas-{round_ + 1}")).to_be_visible(timeout=15_000)
    total = DRAWINGS_EACH * len(pages)
    drawings_shown(teacher, total)
    expect(teacher.locator(".st-key-class-count")).to_contain_text(f"{len(pages)} students")
    expect(teacher.locator(".st-key-class-confusion")).to_be_visible()

    teacher.locator("[class*='st-key-remove-gallery-'] button").first.click()
    drawings_shown(teacher, total - 1)

    out = tmp_path / "class.csv"
    env = {**os.environ, "NETWORK_DATA_DIR": str(app_data_dir)}
    export = subprocess.run([sys.executable, "-m", "network", "class", "export", code, "--out", str(out)],
                            cwd=ROOT, env=env, capture_output=True, text=True)
    assert export.returncode == 0, export.stderr
    lines = out.read_text().splitlines()
    assert lines[0].startswith("label,pixel0,") and len(lines) == total   # the header and total - 1 drawings
    # The gallery shows the newest first: the one removed was the last drawn.
    assert sorted(int(line.split(",")[0]) for line in lines[1:]) == sorted(asked[:-1])
    evaluate = subprocess.run([sys.executable, "-m", "network", "evaluate", "--model", "default", "--data", str(out),
                               "--json"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert evaluate.returncode == 0, evaluate.stderr
    for context in students:
        context.close()
