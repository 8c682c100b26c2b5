"""The Draw page in a real Chromium: draw with the mouse, read the digit, clear, correct."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.drawn import STROKES

pytestmark = pytest.mark.browser


def canvas(page: Page, clears=0, key="canvas"):
    """The drawing surface; each Clear gives a new canvas, keyed <key>-<number of clears>."""
    return page.locator(f".st-key-{key}-{clears} canvas.upper-canvas")


def draw_with_mouse(page: Page, digit, clears=0, key="canvas"):
    """Draw the digit's strokes (canvas coordinates) as a user would."""
    expect(canvas(page, clears, key)).to_be_visible(timeout=15_000)
    # A canvas that has just appeared may not listen to the mouse yet.
    canvas(page, clears, key).scroll_into_view_if_needed()
    page.wait_for_timeout(1000)
    box = canvas(page, clears, key).bounding_box()
    scale = box["width"] / 280
    for stroke in STROKES[digit]:
        x, y = stroke[0]
        page.mouse.move(box["x"] + x * scale, box["y"] + y * scale)
        page.mouse.down()
        for (x0, y0), (x1, y1) in zip(stroke, stroke[1:]):
            for t in (0.25, 0.5, 0.75, 1.0):
                page.mouse.move(box["x"] + (x0 + t * (x1 - x0)) * scale, box["y"] + (y0 + t * (y1 - y0)) * scale)
        page.mouse.up()


def predicted_digit(page: Page):
    text = page.locator(".st-key-prediction").inner_text()
    match = re.search(r"\d", text)
    return int(match.group()) if match else None


def open_draw_page(page: Page, app_url):
    page.goto(app_url)
    expect(canvas(page)).to_be_visible(timeout=30_000)
    expect(page.locator(".st-key-prediction")).to_contain_text("Draw a digit", timeout=15_000)


def test_drawn_digits_are_read_and_clear_resets(page: Page, app_url):
    open_draw_page(page, app_url)
    draw_with_mouse(page, 1)
    expect(page.locator(".st-key-prediction")).to_contain_text("I read a 1", timeout=15_000)
    assert predicted_digit(page) == 1

    page.locator(".st-key-clear-canvas button").click()
    expect(page.locator(".st-key-prediction")).to_contain_text("Draw a digit", timeout=15_000)

    draw_with_mouse(page, 7, clears=1)
    expect(page.locator(".st-key-prediction")).to_contain_text("I read a 7", timeout=15_000)
    assert predicted_digit(page) == 7


def test_correcting_a_prediction_stores_the_drawing(page: Page, app_url):
    open_draw_page(page, app_url)
    draw_with_mouse(page, 0)
    expect(page.locator(".st-key-correction")).to_be_visible(timeout=15_000)
    before = int(re.search(r"Drawings saved: (\d+)", page.locator(".st-key-correction").inner_text()).group(1))
    page.locator(".st-key-correction button", has_text=re.compile(r"^0$")).click()
    page.locator(".st-key-save-correction button").click()
    expect(page.locator(".st-key-correction")).to_contain_text(f"Drawings saved: {before + 1}", timeout=15_000)


CLICK_CLEAR_AND_LOOK = """() => {
    const upper = (node) => node.querySelector('canvas.upper-canvas') || [...node.querySelectorAll('*')]
        .filter((el) => el.shadowRoot).map((el) => upper(el.shadowRoot)).find(Boolean);
    const old = upper(document.querySelector('.st-key-canvas-0'));
    document.querySelector('.st-key-clear-canvas button').click();
    return getComputedStyle(old).pointerEvents;   // at once: the server has not answered yet
}"""


def test_the_old_canvas_takes_no_stroke_after_clear_and_the_new_one_is_read(page, app_url):
    """Issue 14, D12: a stroke on the old canvas after Clear was sent as the
    old canvas's drawing, which the page no longer reads (no reading; see
    scripts/lost_readings.py --at-once).  A stroke in the very first moment
    of the new canvas is still not taken (README, D12): draw_with_mouse
    lets the new canvas settle, as the other tests do."""
    page.goto(app_url)
    draw_with_mouse(page, 1)
    expect(page.locator(".st-key-prediction")).to_contain_text("I read a 1", timeout=15_000)
    assert page.evaluate(CLICK_CLEAR_AND_LOOK) == "none"   # at the click, before any answer from the server
    expect(canvas(page, 1)).to_be_visible(timeout=15_000)
    assert canvas(page, 1).evaluate("c => getComputedStyle(c).pointerEvents") == "auto"
    draw_with_mouse(page, 7, clears=1)
    expect(page.locator(".st-key-prediction")).to_contain_text("I read a 7", timeout=15_000)
