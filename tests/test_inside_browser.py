"""The Inside page in a real Chromium: draw a digit, teach it another one
with a big learning rate, and watch its reading change."""

import re

import pytest
from playwright.sync_api import Page, expect

from tests.test_draw_browser import draw_with_mouse

pytestmark = pytest.mark.browser


def guess(page: Page):
    """The digit the inside-reading container starts with ('I read a 7, ...')."""
    text = page.locator(".st-key-inside-reading").inner_text()
    match = re.match(r"\s*I read an? (\d)", text)
    return int(match.group(1)) if match else None


def test_teaching_a_drawing_another_digit_changes_its_reading(page: Page, app_url):
    page.goto(f"{app_url}/inside")
    reading = page.locator(".st-key-inside-reading")
    expect(reading).to_contain_text("Draw a digit", timeout=30_000)
    draw_with_mouse(page, 1, key="inside-canvas")
    expect(reading).to_contain_text("I read", timeout=15_000)
    expect(page.locator(".katex").first).to_be_visible()  # the equations are typeset
    first = guess(page)
    target = (first + 5) % 10

    thumb = page.locator(".st-key-inside-alpha input[type=range]")
    thumb.focus()
    thumb.press("End")  # the largest learning rate
    expect(page.locator(".st-key-inside-alpha")).to_contain_text("1.000", timeout=15_000)
    page.locator(".st-key-inside-target button", has_text=re.compile(rf"^{target}$")).click()
    step = page.locator(".st-key-inside-step button")
    expect(step).to_be_enabled(timeout=15_000)
    for n in (1, 2, 3):
        step.click()
        expect(page.get_by_text(f"Step {n} (α = 1)")).to_be_visible(timeout=15_000)
    expect(reading).to_contain_text(re.compile(rf"I read an? {target},"), timeout=15_000)
    assert guess(page) == target != first

    page.locator(".st-key-inside-reset button").click()
    expect(reading).to_contain_text(re.compile(rf"I read an? {first},"), timeout=15_000)
