"""Two app servers sharing one PostgreSQL, as behind a load balancer: a
drawing made through one shows on the other's projector view."""

import pytest
from playwright.sync_api import expect

from tests.conftest import _data_folder, serving_app
from tests.test_class_browser import asked_digit, draw_until_read, drawings_shown, open_class_as_teacher

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_drawing_on_one_server_shows_on_the_other(browser, postgres_server, tmp_path, mnist_cache):
    database = postgres_server()
    first = _data_folder(tmp_path / "first", mnist_cache)
    second = _data_folder(tmp_path / "second", mnist_cache)
    with serving_app(first, NETWORK_DATABASE_URL=database) as one, \
            serving_app(second, NETWORK_DATABASE_URL=database) as two:
        teacher, code = open_class_as_teacher(browser, two)

        student = browser.new_page()
        student.goto(f"{one}/?class={code}")
        draw_until_read(student, asked_digit(student))
        expect(student.get_by_text("Kept for the class")).to_be_visible(timeout=15_000)
        drawings_shown(teacher, 1)
        assert not (first / "store.sqlite3").exists() and not (second / "store.sqlite3").exists()
