"""A lesson link opened in a real browser (Chromium): the recipe is set, the
hidden controls are not on the page, the address keeps the lesson, and
the Draw page's model is fixed by its link."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

LESSON = "preset=custom&hidden=10&optimizer=gd&lr=0.5&batch=full&iterations=200&hide=optimizer,batch,schedule,l2"


def test_a_lesson_link_sets_the_recipe_and_hides_controls(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url}/train?{LESSON}")
    expect(page.locator(".st-key-train-hidden input")).to_have_value("10", timeout=30_000)
    expect(page.locator(".st-key-train-lr input")).to_have_value("0.5000")
    expect(page.locator(".st-key-train-length input")).to_have_value("200")
    expect(page.get_by_text("Gradient descent lr 0.5 · full batch · 200 iterations")).to_be_visible()
    for key in ("train-optimizer", "train-batch", "train-schedule", "train-l2"):
        expect(page.locator(f".st-key-{key}")).to_have_count(0)
    expect(page.locator(".st-key-train-activation")).to_have_count(1)
    assert "hide=optimizer%2Cbatch%2Cschedule%2Cl2" in page.url or "hide=optimizer,batch,schedule,l2" in page.url

    page.get_by_text("Copy lesson link").click()
    expect(page.locator(".st-key-train-lesson-link")).to_contain_text("lr=0.5")
    page.close()


def test_a_bad_link_says_so_once_and_the_page_works(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url}/train?lr=banana&hide=everything")
    expect(page.get_by_text("This link has settings the page cannot use")).to_have_count(1, timeout=30_000)
    expect(page.locator(".st-key-train-start button")).to_be_enabled()
    page.close()


def test_a_link_fixes_the_draw_pages_model(app_url, browser):
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    page.goto(f"{app_url}/?model=seed")
    expect(page.get_by_text("set by the link you opened")).to_be_visible(timeout=30_000)
    expect(page.get_by_text("784-10-10 relu")).to_be_visible()
    expect(page.locator(".st-key-model-picker")).to_have_count(0)
    page.close()
