"""What would averaging two (or more) models' readings be worth?

Reads MNIST's test set, the rendered pen trajectories and hwd1000 with each
model alone and with the models' probabilities averaged, and times one
reading of a single drawing both ways (the Draw page reads one at a time).
A measurement only: the app reads with one model.

With --variants, each model's reading is itself an average: over the
drawing and the drawing turned, slanted and resized a little (VARIANTS,
test-time augmentation), so that those can be weighed the same way.

The drawings go through canvas_to_mnist exactly as in eval_real_drawings.py
(same canvases for the same --seed), each model softened by its own blur.

    .venv/bin/python scripts/average_models.py A.npz B.npz [--data ../shared/data] [--limit N] [--variants]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network import preprocess  # noqa: E402
from network.mnist import fetch_mnist  # noqa: E402
from network.modelfile import input_blur, load_model  # noqa: E402
from scripts.eval_real_drawings import hwd_images, pendigit_canvases  # noqa: E402


def sharp_drawings(data_dir, limit, seed):
    """(labels, sharp 28x28 images) of the pendigits and of hwd1000 as canvas_to_mnist leaves them
    before the model's blur (zeros where it found no digit: read wrong by any model)."""
    def sharp(image):
        result = preprocess.canvas_to_mnist(image)
        return np.zeros((28, 28), np.float32) if result.sharp is None else result.sharp

    pen_labels, pen = zip(*((label, sharp(canvas)) for label, canvas, _ in pendigit_canvases(data_dir, limit, seed)))
    hwd_labels, hwd_small, _ = hwd_images(data_dir)
    return {"real drawings": (np.array(pen_labels), np.stack(pen)),
            "hwd1000": (hwd_labels, np.stack([sharp(image) for image in hwd_small]))}


# Test-time variants of a 28x28 drawing, as (degrees turned, slant, size):
# the distortions training draws from, in small fixed steps.
VARIANTS = ((8, 0, 1), (-8, 0, 1), (0, 0.15, 1), (0, -0.15, 1), (0, 0, 0.9), (0, 0, 1.1))


def varied(image, degrees, slant, size):
    """The image turned by `degrees`, slanted (x moves by `slant` y) and
    resized by `size` about its centre, bilinear."""
    turn = np.deg2rad(degrees)
    # PIL maps each output pixel to the input pixel it samples: the inverse map.
    forward = np.array([[np.cos(turn), -np.sin(turn)], [np.sin(turn), np.cos(turn)]]) @ [[1, slant], [0, 1]] * size
    inverse = np.linalg.inv(forward)
    centre = np.array([13.5, 13.5])
    shift = centre - inverse @ centre
    coefficients = (*inverse[0], shift[0], *inverse[1], shift[1])
    pixels = image / np.float32(255) if image.dtype == np.uint8 else image  # MNIST's are 0..255
    picture = Image.fromarray(np.asarray(pixels, np.float32), mode="F")
    return np.asarray(picture.transform((28, 28), Image.Transform.AFFINE, coefficients, Image.Resampling.BILINEAR))


def probabilities(model, images, blur_images=True, variants=()):
    """The model's (m, 10) probabilities, drawings softened by the model's
    own blur; averaged over the images and each of their `variants`."""
    blur = input_blur(model) if blur_images else 0.0
    total = 0
    for variant in [None, *variants]:
        shown = images if variant is None else np.stack([varied(image, *variant) for image in images])
        if blur:
            shown = np.stack([preprocess.soften(image, blur) for image in shown])
        total = total + model.predict_proba(shown)
    return total / (1 + len(variants))


def reading_ms(models, image, variants=(), repeats=200):
    """Median milliseconds to read one sharp drawing with all `models` (blur and variants included)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sum(probabilities(model, image[None], variants=variants) for model in models)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--limit", type=int, default=None, help="use only the first N pendigits")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random canvases")
    parser.add_argument("--variants", action="store_true",
                        help="average each model's reading over the drawing and its VARIANTS")
    args = parser.parse_args(argv)
    data_dir = Path(args.data)
    if not (data_dir / "pendigits-train-strokes.npz").exists():
        parser.error(f"no pendigits-train-strokes.npz in {data_dir} (see --data)")

    models = [load_model(path) for path in args.models]
    variants = VARIANTS if args.variants else ()
    test = fetch_mnist().test
    sets = {"MNIST test": (test.labels, test.images), **sharp_drawings(data_dir, args.limit, args.seed)}
    names = [str(path) for path in args.models] + ["average"]
    print(f"{'model':40s}" + "".join(f"{name:>15s}" for name in sets) + f"{'one reading':>15s}")
    scores = [[] for _ in names]
    for set_name, (labels, images) in sets.items():
        drawn = set_name != "MNIST test"  # MNIST's digits are soft already: no blur
        each = [probabilities(model, images, drawn, variants) for model in models]
        for row, p in zip(scores, each + [sum(each)]):
            row.append(float(np.mean(p.argmax(axis=1) == labels)))
    one = sets["real drawings"][1][0]
    times = [reading_ms([model], one, variants) for model in models] + [reading_ms(models, one, variants)]
    for name, row, ms in zip(names, scores, times):
        print(f"{name:40s}" + "".join(f"{a:>15.2%}" for a in row) + f"{ms:>12.2f} ms")


if __name__ == "__main__":
    main()
