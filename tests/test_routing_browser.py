"""Every page's own address works from a server's first request (Chromium).

A pages/ folder beside streamlit_app.py switches on Streamlit's legacy
multipage mode until some session calls st.navigation; ui/routing.py hands
such runs to the router.  Without that, a link to /train handed out after a
restart gave every student the plain page list ("streamlit app, draw,
train") and a narrow layout."""

import pytest
from playwright.sync_api import expect

pytestmark = pytest.mark.browser

NARROW_LAYOUT = 736  # px: Streamlit's centred layout; the app's wide layout fills the window


def test_a_page_link_opened_first_on_a_fresh_server_shows_the_app_for_every_visitor(fresh_app_url, browser):
    for visitor in range(2):  # the first request, and the next visitor after it
        page = browser.new_page(viewport={"width": 1280, "height": 800})
        page.goto(f"{fresh_app_url}/train")
        # A first run on a fresh, busy server may take a while: a hang guard, not a speed claim.
        expect(page.get_by_role("heading", name="Train a network")).to_be_visible(timeout=60_000)
        menu = page.locator("[data-testid='stSidebarNav']")
        expect(menu).to_contain_text("Draw")
        expect(menu).to_contain_text("Train")
        expect(menu).not_to_contain_text("streamlit app")
        width = page.locator("[data-testid='stMainBlockContainer']").bounding_box()["width"]
        assert width > NARROW_LAYOUT, f"visitor {visitor + 1}: a {width:.0f} px narrow layout"
        page.close()
