"""What the pictures of a reading and of a training run's live view cost to
encode: Streamlit's own encoding of an array (PNG, zlib level 6) against
network.visualise.png (level 1), and the stored canvas PNG.

    python scripts/picture_cost.py

Prints milliseconds per picture (median of 20) and bytes, for the shipped
model reading a drawn 7 and for a Fast demo's first layer.
"""

import io
import statistics
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network.modelfile import load_model  # noqa: E402
from network.preprocess import canvas_to_mnist  # noqa: E402
from network.store import encode_canvas  # noqa: E402
from network.training import PRESETS, new_network  # noqa: E402
from network.visualise import diverging, enlarge, png, saliency_overlay, scaled_grey, tile  # noqa: E402
from tests.drawn import draw_digit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


def streamlit_png(image):
    """What st.image(array, output_format="PNG") does with an array."""
    buffer = io.BytesIO()
    Image.fromarray(image).save(buffer, format="PNG")
    return buffer.getvalue()


def milliseconds(encode, image, repeats=20):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        data = encode(image)
        times.append(time.perf_counter() - start)
    return 1000 * statistics.median(times), len(data)


def pictures():
    """(name, uint8 picture) as the Draw page and the Train page draw them."""
    net = load_model(ROOT / "models" / "default.npz")
    canvas = draw_digit(7)
    drawing = canvas_to_mnist(canvas, ink="light")
    reading = net.explain(drawing.pixels)
    yield "saliency (196 px)", enlarge(saliency_overlay(drawing.pixels, reading.saliency), 196)
    for description, values in reading.activations:
        if values.ndim == 3:
            maps = tile(scaled_grey(values), columns=8)
            yield f"{description} ({min(560, maps.shape[1] * 5)} px)", enlarge(maps, min(560, maps.shape[1] * 5))
    first = new_network(PRESETS["fast"]).layers[0].params["W"][:64]
    side = int(np.sqrt(first.shape[1]))
    weights = tile(np.stack([diverging(w) for w in first.reshape(-1, side, side)]), 8, gap=1)
    yield "Fast demo first layer (480 px)", enlarge(weights, 480)


def main():
    print(f"{'picture':36} {'Streamlit (level 6)':>22} {'png() (level 1)':>20}")
    for name, image in pictures():
        (slow, slow_bytes), (fast, fast_bytes) = milliseconds(streamlit_png, image), milliseconds(png, image)
        print(f"{name:36} {slow:8.1f} ms {slow_bytes:8,} B {fast:7.1f} ms {fast_bytes:8,} B")
    canvas = draw_digit(7)

    def optimized(image):
        buffer = io.BytesIO()
        Image.fromarray(image[..., :3].max(axis=2)).save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()

    (slow, slow_bytes), (fast, fast_bytes) = milliseconds(optimized, canvas), milliseconds(encode_canvas, canvas)
    name = "stored canvas (optimize=True / now)"
    print(f"{name:36} {slow:8.1f} ms {slow_bytes:8,} B {fast:7.1f} ms {fast_bytes:8,} B")


if __name__ == "__main__":
    main()
