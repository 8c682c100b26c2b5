"""The Draw page on every screen a class uses (Chromium): the canvas whole
and the answer in view without scrolling, on a phone, a small laptop, a
720p projector (at 100% and 150% zoom) and a full-HD screen; and the
projector view's class confusion matrix whole at 720p.

Browser zoom is emulated as Chromium does it: 150% on a 1280x720 screen is
a 853x480 CSS-pixel window with 1.5 device pixels per CSS pixel.  The
screenshots go to the test's output folder (test-results/...), before and
after drawing, for a person to look at.
"""

import os
import time

import numpy as np
import pytest
from playwright.sync_api import Page, expect

from network.store import open_store
from tests.test_class_browser import draw_with_finger, drawings_shown, open_class_as_teacher
from tests.test_draw_browser import canvas, draw_with_mouse

pytestmark = pytest.mark.browser

SCREENS = {  # name: (width, height, device pixels per CSS pixel, touch)
    "phone-390x844-touch": (390, 844, 3, True),
    "laptop-1024x768": (1024, 768, 1, False),
    "projector-1280x720": (1280, 720, 1, False),
    "projector-1280x720-zoom150": (853, 480, 1.5, False),
    "full-hd-1920x1080": (1920, 1080, 1, False),
}


def inside(box, width, height):
    """True if the box lies wholly in the window."""
    return (box is not None and box["x"] >= -0.5 and box["y"] >= -0.5
            and box["x"] + box["width"] <= width + 0.5 and box["y"] + box["height"] <= height + 0.5)


def drawn(page: Page):
    """Wait for the answer to be drawn whole (Streamlit shows grey boxes while an element loads)."""
    expect(page.locator(".st-key-prediction .answer-digit")).to_be_visible(timeout=15_000)
    expect(page.locator("[data-testid='stVegaLiteChart']").first).to_be_visible(timeout=15_000)
    expect(page.locator("[data-testid='stStatusWidget']")).to_be_hidden(timeout=15_000)


def settled_canvas_box(page: Page, timeout=30.0):
    """The canvas's box once the page has sized it for this window (it
    starts at 280 px and is resized when the browser reports its size)."""
    previous, deadline = None, time.monotonic() + timeout
    while time.monotonic() < deadline:
        box = canvas(page).bounding_box()
        if box is not None and box == previous:
            return box
        previous = box
        page.wait_for_timeout(700)  # polling: the loop ends as soon as the box holds still
    return previous


@pytest.mark.parametrize("screen", list(SCREENS))
def test_the_canvas_and_the_answer_fit_without_scrolling(browser, app_url, output_path, screen):
    width, height, scale, touch = SCREENS[screen]
    context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=scale,
                                  has_touch=touch, is_mobile=touch)
    page = context.new_page()
    try:
        page.goto(app_url)
        expect(canvas(page)).to_be_visible(timeout=30_000)
        box = settled_canvas_box(page)
        os.makedirs(output_path, exist_ok=True)
        page.screenshot(path=os.path.join(output_path, f"{screen}-before.png"))
        assert inside(box, width, height), f"{screen}: canvas at {box}, window {width}x{height}"
        assert box["width"] >= 160

        (draw_with_finger if touch else draw_with_mouse)(page, 3)
        answer = page.locator(".st-key-prediction")
        expect(answer).to_contain_text("I read a 3", timeout=15_000)
        drawn(page)
        page.screenshot(path=os.path.join(output_path, f"{screen}-after.png"))
        assert page.evaluate("window.scrollY") == 0
        assert inside(canvas(page).bounding_box(), width, height), f"{screen}: canvas moved"
        assert inside(answer.bounding_box(), width, height), f"{screen}: answer at {answer.bounding_box()}"
    finally:
        context.close()


def test_presenter_mode_shows_a_big_answer(browser, app_url, output_path):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    try:
        page.goto(f"{app_url}/?present=1")
        expect(canvas(page)).to_be_visible(timeout=30_000)
        settled_canvas_box(page)
        draw_with_mouse(page, 7)
        answer = page.locator(".st-key-prediction")
        expect(answer).to_contain_text("I read a 7", timeout=15_000)
        drawn(page)
        os.makedirs(output_path, exist_ok=True)
        page.screenshot(path=os.path.join(output_path, "presenter-1280x720.png"))
        digit_height = answer.locator(".answer-digit").bounding_box()["height"]
        assert digit_height >= 150, digit_height  # 11rem: readable from the back of a room
        assert inside(answer.bounding_box(), 1280, 720)
    finally:
        page.close()


def fill_class(store, code, per_digit=130):
    """A big class's drawings: every digit drawn 130 times, most read right (three-digit counts), some confused."""
    rng = np.random.default_rng(0)
    for label in range(10):
        for i in range(per_digit):
            predicted = label if i < per_digit - 10 else int(rng.integers(10))
            store.add_drawing(rng.random((28, 28), dtype=np.float32), label, "prompt", predicted=predicted,
                              confidence=0.9, class_code=code, student=f"student {i}")


def test_the_projector_shows_the_whole_confusion_matrix_at_720p_with_the_sidebar_open(browser, app_url,
                                                                                      app_data_dir, output_path):
    teacher, code = open_class_as_teacher(browser, app_url)
    try:
        fill_class(open_store(app_data_dir), code)
        drawings_shown(teacher, 1300)
        sidebar = teacher.locator("[data-testid='stSidebar']").bounding_box()
        assert sidebar is not None and sidebar["x"] >= 0 and sidebar["width"] > 200, sidebar   # open
        matrix = teacher.locator(".st-key-class-confusion")
        matrix.scroll_into_view_if_needed()
        expect(matrix.locator("canvas").first).to_be_visible(timeout=15_000)
        teacher.wait_for_timeout(500)   # the grid draws itself once its size is known
        os.makedirs(output_path, exist_ok=True)
        teacher.screenshot(path=os.path.join(output_path, "projector-1280x720-matrix.png"))
        box = matrix.bounding_box()
        assert box["x"] >= 0 and box["x"] + box["width"] <= 1280, box
        assert box["height"] <= 720, box   # it fits the screen at once
        scroller = matrix.locator(".dvn-scroller").first
        sizes = scroller.evaluate("e => [e.scrollWidth, e.clientWidth, e.scrollHeight, e.clientHeight]")
        assert sizes[0] <= sizes[1] + 1 and sizes[2] <= sizes[3] + 1, f"the matrix scrolls inside: {sizes}"
    finally:
        teacher.close()
