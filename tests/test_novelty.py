"""Telling a digit from anything else: the digit atlas (network/novelty.py)."""

import numpy as np
import pytest

from network import novelty
from network.preprocess import canvas_to_mnist
from scripts.not_digits import DOODLES, LETTERS, font_canvases, stroke_canvases
from tests.drawn import STROKES, draw_digit


@pytest.fixture(scope="module")
def atlas():
    shipped = novelty.load_atlas()
    assert shipped is not None, "models/digit-atlas.npz is shipped: the app checks drawings offline"
    return shipped


def as_seen(canvas):
    drawing = canvas_to_mnist(canvas, ink="light")
    assert not drawing.empty
    return drawing.pixels


@pytest.mark.parametrize("digit", sorted(STROKES))
def test_a_drawn_digit_is_not_flagged(atlas, digit):
    for width in (10, 18, 30):
        assert novelty.looks_like_a_digit(atlas, as_seen(draw_digit(digit, width=width))), (digit, width)


@pytest.mark.parametrize("shape", ["smiley", "face with eyes", "hash", "star", "sun", "house"])
def test_a_doodle_is_flagged(atlas, shape):
    drawings = [as_seen(canvas) for _, canvas in stroke_canvases({shape: DOODLES[shape]}, 10, seed=5)]
    flagged = novelty.distances(atlas, np.stack(drawings)) > atlas.threshold
    assert flagged.mean() >= 0.8, f"{shape}: only {flagged.sum()} of 10 flagged"


@pytest.mark.parametrize("letter", ["A", "K", "M", "N", "W"])
def test_a_letter_drawn_in_strokes_is_flagged(atlas, letter):
    drawings = [as_seen(canvas) for _, canvas in stroke_canvases({letter: LETTERS[letter]}, 10, seed=6)]
    flagged = novelty.distances(atlas, np.stack(drawings)) > atlas.threshold
    assert flagged.mean() >= 0.7, f"{letter}: only {flagged.sum()} of 10 flagged"


def test_letters_typed_in_a_font_are_flagged_when_the_machine_has_fonts(atlas):
    drawings = [as_seen(canvas) for _, canvas in font_canvases(2, seed=7, letters="AEHKMX")]
    if not drawings:
        pytest.skip("no DejaVu fonts on this machine (the stroke letters above need none)")
    assert (novelty.distances(atlas, np.stack(drawings)) > atlas.threshold).mean() >= 0.7


def test_mnist_test_digits_as_drawn_are_rarely_flagged(atlas, mnist_cache):
    if mnist_cache is None:
        pytest.skip("MNIST cannot be obtained here")
    from network.mnist import fetch_mnist
    pixels = novelty.as_drawn(fetch_mnist(mnist_cache.parent).test.images[:300]).reshape(-1, 28, 28)
    assert (novelty.distances(atlas, pixels) > atlas.threshold).mean() < 0.03


def test_distance_is_the_nearest_atlas_digit():
    digits = np.eye(3, 784, dtype=np.float32)
    atlas = novelty.Atlas(digits, 0.5)
    x = np.zeros((28, 28), np.float32)
    x.flat[1] = 0.8
    assert novelty.distances(atlas, x)[0] == pytest.approx(0.2, abs=1e-6)
    assert novelty.looks_like_a_digit(atlas, x)
    x.flat[1] = 0.0
    assert not novelty.looks_like_a_digit(atlas, x)  # distance 1 to each


def test_the_atlas_round_trips_its_file(tmp_path, atlas):
    small = novelty.Atlas(atlas.digits[:50], atlas.threshold)
    path = novelty.save_atlas(small, tmp_path / "atlas.npz")
    loaded = novelty.load_atlas(path)
    assert loaded.threshold == small.threshold
    np.testing.assert_allclose(loaded.digits, small.digits, atol=0.5 / 255 + 1e-6)
    probe = atlas.digits[100:110].reshape(-1, 28, 28)
    np.testing.assert_allclose(novelty.distances(loaded, probe), novelty.distances(small, probe), rtol=1e-3, atol=1e-3)


def test_no_atlas_means_no_check(tmp_path):
    assert novelty.load_atlas(tmp_path / "absent.npz") is None


@pytest.mark.parametrize("content", [
    b"not a zip at all",
    "pickled",
    "float digits",
    "negative threshold",
])
def test_a_damaged_atlas_is_refused_with_a_clear_error(tmp_path, content):
    path = tmp_path / "atlas.npz"
    if content == "pickled":
        np.savez(path, digits=np.array([{"evil": 1}], dtype=object), threshold=np.float64(1))
    elif content == "float digits":
        np.savez(path, digits=np.zeros((2, 28, 28), np.float32), threshold=np.float64(1))
    elif content == "negative threshold":
        np.savez(path, digits=np.zeros((2, 28, 28), np.uint8), threshold=np.float64(-1))
    else:
        path.write_bytes(content)
    with pytest.raises(novelty.AtlasError):
        novelty.load_atlas(path)
