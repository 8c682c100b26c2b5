"""canvas_to_mnist: any drawing of a digit, anywhere, any size, any pen, comes
out as the same MNIST-style 28x28 image."""

import dataclasses
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFilter

from network.preprocess import MnistInput, PreprocessError, canvas_to_mnist, ink_map, load_image

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

# Digits as polylines in a unit box (x right, y down).
SHAPES = {
    "7": [[(0.0, 0.0), (1.0, 0.0), (0.35, 1.0)]],
    "1": [[(0.5, 0.0), (0.5, 1.0)]],
    "0": [[(0.5 + 0.5 * np.sin(t), 0.5 - 0.5 * np.cos(t)) for t in np.linspace(0, 2 * np.pi, 40)]],
    "4": [[(0.7, 1.0), (0.7, 0.0), (0.0, 0.65), (1.0, 0.65)]],
}
CENTRED = (70, 50, 200, 230)  # x0, y0, x1, y1 of the digit on a 280x280 canvas


def draw(shape, box=CENTRED, width=18, size=(280, 280), style="transparent"):
    """A canvas with `shape` drawn in `box` by a round pen `width` px wide.

    style: "transparent" (white ink, alpha 0 around: the canvas component),
    "black" (white on opaque black) or "paper" (black ink on white RGB).
    """
    x0, y0, x1, y1 = box
    mask = Image.new("L", size, 0)
    pen = ImageDraw.Draw(mask)
    for stroke in SHAPES[shape]:
        points = [(x0 + x * (x1 - x0), y0 + y * (y1 - y0)) for x, y in stroke]
        pen.line(points, fill=255, width=width, joint="curve")
        for x, y in points:
            pen.ellipse((x - width / 2, y - width / 2, x + width / 2, y + width / 2), fill=255)
    ink = np.asarray(mask)
    if style == "paper":
        return np.stack([255 - ink] * 3, axis=-1)
    rgba = np.zeros(ink.shape + (4,), dtype=np.uint8)
    if style == "transparent":
        rgba[..., :3], rgba[..., 3] = 255, ink
    else:
        rgba[..., :3], rgba[..., 3] = ink[..., None], 255
    return rgba


def centre_of_mass(pixels):
    rows, cols = np.mgrid[0:pixels.shape[0], 0:pixels.shape[1]]
    return (pixels * rows).sum() / pixels.sum(), (pixels * cols).sum() / pixels.sum()


def ink_box(pixels, level=0.25):
    rows, cols = np.nonzero(pixels >= level)
    return rows.max() - rows.min() + 1, cols.max() - cols.min() + 1


def softened(pixels):
    """A 28x28 image blurred by 1 px, so a 1 px shift of a thin stroke counts little."""
    image = Image.fromarray((pixels * 255).round().astype(np.uint8))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(1.0)), dtype=np.float32) / 255


def similarity(a, b):
    """Correlation of two softened 28x28 images: 1 is the same; two different
    digits here score below 0.5."""
    return float(np.corrcoef(softened(a).ravel(), softened(b).ravel())[0, 1])


@pytest.mark.parametrize("shape", sorted(SHAPES))
@pytest.mark.parametrize("variant", [
    dict(box=(5, 5, 63, 85), width=8),           # small, in the top-left corner
    dict(box=(195, 170, 271, 275), width=10),    # small, bottom-right
    dict(box=(40, 8, 231, 272), width=24),       # as tall as the canvas
    dict(width=38),                              # a marker
    dict(width=5),                               # a hairline
    dict(style="black"),                         # opaque black background
    dict(style="paper"),                         # dark ink on a white RGB image
])
def test_a_digit_comes_out_the_same_wherever_and_however_it_is_drawn(shape, variant):
    reference = canvas_to_mnist(draw(shape)).pixels
    result = canvas_to_mnist(draw(shape, **variant))
    assert not result.empty
    assert similarity(result.pixels, reference) > 0.8
    assert np.abs(softened(result.pixels) - softened(reference)).mean() < 0.07


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_output_looks_like_mnist(shape):
    result = canvas_to_mnist(draw(shape, box=(150, 20, 260, 120), width=14))
    pixels = result.pixels
    assert pixels.shape == (28, 28) and pixels.dtype == np.float32
    assert pixels.min() >= 0 and pixels.max() <= 1 and pixels.max() > 0.9
    row, col = centre_of_mass(pixels)
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1
    assert max(ink_box(pixels)) in (19, 20, 21)


def test_a_one_stays_thin():
    pixels = canvas_to_mnist(draw("1", width=20)).pixels
    height, width = ink_box(pixels)
    assert height >= 19 and width <= 5


def test_pipeline_steps_are_shown_in_order():
    canvas = draw("7", size=(300, 240), box=(40, 30, 160, 200))
    steps = canvas_to_mnist(canvas).steps
    assert [title for title, _ in steps] == ["raw", "cropped", "scaled", "centred"]
    assert all(image.dtype == np.uint8 and image.ndim == 2 for _, image in steps)
    assert steps[0][1].shape == (240, 300)
    assert max(steps[2][1].shape) == 20
    assert steps[3][1].shape == (28, 28)


def test_result_is_frozen():
    result = canvas_to_mnist(draw("7"))
    assert isinstance(result, MnistInput)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.empty = True


@pytest.mark.parametrize("canvas", [
    np.zeros((280, 280, 4), np.uint8),                        # nothing drawn, transparent
    np.dstack([np.zeros((280, 280, 3), np.uint8), np.full((280, 280), 255, np.uint8)]),  # black
    np.full((100, 100, 3), 255, np.uint8) * 0,                # black RGB
], ids=["transparent", "black", "rgb"])
def test_an_empty_canvas_is_empty(canvas):
    result = canvas_to_mnist(canvas)
    assert result.empty and result.pixels is None
    assert result.ink_fraction == 0
    assert [title for title, _ in result.steps] == ["raw"]


def test_a_single_pixel_or_a_tap_of_the_pen_is_empty():
    pixel = np.zeros((280, 280, 4), np.uint8)
    pixel[100, 100] = 255
    assert canvas_to_mnist(pixel).empty
    tap = Image.new("RGBA", (280, 280))
    ImageDraw.Draw(tap).ellipse((100, 100, 125, 125), fill=(255, 255, 255, 255))
    assert canvas_to_mnist(tap).empty


def test_a_short_thick_stroke_is_still_a_digit():
    canvas = draw("1", box=(100, 100, 140, 140), width=30)  # 70 px tall, 30 px pen
    assert not canvas_to_mnist(canvas).empty


def test_a_filled_canvas_is_not_empty_and_reports_its_ink():
    full = np.full((280, 280, 4), 255, np.uint8)
    result = canvas_to_mnist(full)
    assert not result.empty and result.pixels.shape == (28, 28)
    assert result.ink_fraction > 0.99


def test_a_scribble_covers_much_of_the_canvas():
    canvas = draw("0", box=(0, 0, 280, 280), width=120)
    assert canvas_to_mnist(canvas).ink_fraction > 0.5


def test_a_stray_dot_beside_the_digit_is_ignored():
    clean = draw("7", box=(120, 60, 250, 240))
    dotted = Image.fromarray(clean)
    ImageDraw.Draw(dotted).ellipse((15, 230, 33, 248), fill=(255, 255, 255, 255))
    a, b = canvas_to_mnist(clean).pixels, canvas_to_mnist(dotted).pixels
    assert np.abs(a - b).max() < 1e-6


def test_a_digit_in_two_pieces_keeps_both():
    # A 4 written as two strokes that do not touch: an angle, then a bar apart.
    canvas = Image.new("RGBA", (280, 280))
    pen = ImageDraw.Draw(canvas)
    pen.line([(150, 40), (60, 170), (200, 170)], fill=(255, 255, 255, 255), width=16, joint="curve")
    pen.line([(185, 60), (185, 250)], fill=(255, 255, 255, 255), width=16)
    cropped = dict(canvas_to_mnist(canvas).steps)["cropped"]
    rows, cols = np.nonzero(np.asarray(canvas)[..., 3] >= 64)
    assert cropped.shape == (rows.max() - rows.min() + 1, cols.max() - cols.min() + 1)


def test_render_strokes_draws_like_a_canvas():
    from scripts.render_strokes import render_strokes

    strokes = [np.array([[0, 0], [10, 0], [3, 20]], np.float32)]
    canvas = render_strokes(strokes, size=280, line_width=20, height=200, offset=(50, 40))
    assert canvas.shape == (280, 280, 4) and canvas.dtype == np.uint8
    alpha = canvas[..., 3]
    assert alpha[0, 0] == 0 and alpha.max() == 255
    assert 0 < np.mean((alpha > 0) & (alpha < 255)) < 0.05  # anti-aliased edges
    assert np.all(canvas[..., :3][alpha > 0] == 255)  # white ink
    rows = np.flatnonzero(alpha.max(axis=1) >= 128)
    assert abs(rows.min() - (40 - 10)) <= 1 and abs(rows.max() - (240 + 10)) <= 1  # 200 px + round caps
    black = render_strokes(strokes, line_width=20, height=200, offset=(50, 40), background="black")
    assert np.all(black[..., 3] == 255) and np.array_equal(black[..., 0], alpha)


@pytest.mark.parametrize("image", [
    draw("7", size=(137, 411), box=(10, 100, 120, 300), width=9),       # tall, odd size
    draw("7", size=(411, 137), box=(150, 10, 260, 125), width=9),       # wide
    draw("0", size=(28, 28), box=(8, 4, 20, 24), width=2),              # MNIST-sized
    draw("7", style="black")[..., 0],                                   # grayscale 2-D
    draw("7", style="black")[..., :1],                                  # (H, W, 1)
    draw("7", style="black")[..., 0] / np.float32(255),                 # float in [0, 1]
    draw("7", style="black")[..., 0] > 128,                             # boolean mask
    Image.fromarray(draw("7")),                                         # PIL RGBA
    Image.fromarray(draw("7", style="black")).convert("L"),             # PIL L
    Image.fromarray(draw("7", style="paper")).convert("1"),             # PIL 1-bit, dark ink
    Image.fromarray(draw("7", style="paper")).convert("P"),             # PIL palette
], ids=["137x411", "411x137", "28x28", "gray", "hw1", "float", "bool", "pil-rgba", "pil-l",
        "pil-1", "pil-p"])
def test_any_size_and_kind_of_image_works(image):
    result = canvas_to_mnist(image)
    assert not result.empty
    assert result.pixels.shape == (28, 28) and result.pixels.dtype == np.float32
    row, col = centre_of_mass(result.pixels)
    assert abs(row - 14) <= 1 and abs(col - 14) <= 1


@pytest.mark.parametrize("image", [
    np.zeros((1, 1, 4), np.uint8), np.full((1, 1), 255, np.uint8), np.zeros((1, 1, 3), np.uint8),
])
def test_a_one_pixel_image_is_empty(image):
    assert canvas_to_mnist(image).empty


@pytest.mark.parametrize("bad", [np.zeros((10, 10, 5), np.uint8), np.zeros((2, 3, 4, 4), np.uint8),
                                 np.zeros((0, 10), np.uint8), np.zeros(5, np.uint8)])
def test_what_is_not_an_image_raises_preprocess_error(bad):
    with pytest.raises(PreprocessError):
        canvas_to_mnist(bad)


def test_transparent_pixels_are_background_whatever_their_colour():
    canvas = draw("7")
    canvas[..., :3] = 255  # white everywhere, but only the strokes are opaque
    assert np.array_equal(ink_map(canvas) > 0.5, draw("7")[..., 3] > 127)


def test_load_image_reads_files_and_reports_bad_ones(tmp_path):
    path = tmp_path / "seven.png"
    Image.fromarray(draw("7", style="paper")).save(path)
    loaded = load_image(path)
    assert loaded.shape == (280, 280, 4) and loaded.dtype == np.uint8
    assert not canvas_to_mnist(loaded).empty

    jpeg = tmp_path / "seven.jpg"
    Image.fromarray(draw("7", style="paper")).save(jpeg, quality=70)
    assert similarity(canvas_to_mnist(load_image(jpeg)).pixels, canvas_to_mnist(loaded).pixels) > 0.95

    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not an image at all")
    for path in (broken, tmp_path / "missing.png"):
        with pytest.raises(PreprocessError) as error:
            load_image(path)
        assert "\n" not in str(error.value) and str(path) in str(error.value)


def median_seconds(work, repeats=20):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return np.median(times)


def test_preprocessing_costs_about_as_much_as_resizing_the_canvas():
    """A ratio measured within one run, not a wall-clock limit: a busy machine
    slows both alike.  About 1.3x a Lanczos resize (1.7 ms against 1.2 ms)."""
    canvas = draw("0", width=22)
    resize = Image.fromarray(canvas)
    preprocessing = median_seconds(lambda: canvas_to_mnist(canvas))
    resizing = median_seconds(lambda: resize.resize((28, 28), Image.Resampling.LANCZOS))
    assert preprocessing < 10 * resizing


@pytest.mark.skipif(not (SHARED_DATA / "pendigits-train-strokes.npz").exists(),
                    reason="real handwriting in ../shared/data is not here")
def test_rendered_real_handwriting_comes_out_centred():
    from scripts.render_strokes import load_pendigits, random_canvas

    digits, labels = load_pendigits(SHARED_DATA / "pendigits-train-strokes.npz")
    rng = np.random.default_rng(0)
    for strokes in digits[:40]:
        canvas = random_canvas(strokes, rng)
        assert canvas.shape == (280, 280, 4) and canvas.dtype == np.uint8
        result = canvas_to_mnist(canvas)
        assert not result.empty
        row, col = centre_of_mass(result.pixels)
        assert abs(row - 14) <= 1 and abs(col - 14) <= 1


def test_a_scribble_over_the_whole_black_canvas_is_ink_when_ink_is_known_light():
    """The Draw page's canvas is opaque black with white ink: a scribble that
    covers even the border must not be mistaken for a white background."""
    image = Image.new("RGBA", (280, 280), (0, 0, 0, 255))
    points = [(x, 5 + 270 * (i % 2)) for i, x in enumerate(range(0, 281, 10))]
    ImageDraw.Draw(image).line(points, fill=(255, 255, 255, 255), width=30)
    result = canvas_to_mnist(np.asarray(image), ink="light")
    assert not result.empty and result.ink_fraction > 0.8


def test_blur_softens_edges_but_keeps_the_ink_and_its_centre():
    sharp = canvas_to_mnist(draw("7")).pixels
    soft = canvas_to_mnist(draw("7"), blur=0.7).pixels
    assert soft.dtype == np.float32 and 0 <= soft.min() and soft.max() <= 1
    assert np.count_nonzero(soft > 0.05) > np.count_nonzero(sharp > 0.05)
    assert abs(soft.sum() - sharp.sum()) < 0.1 * sharp.sum()
    np.testing.assert_allclose(centre_of_mass(soft), centre_of_mass(sharp), atol=0.3)
