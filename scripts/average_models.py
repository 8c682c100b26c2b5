"""What would averaging two (or more) models' readings be worth?

Reads MNIST's test set, the rendered pen trajectories and hwd1000 with each
model alone and with the models' probabilities averaged, and times one
reading of a single drawing both ways (the Draw page reads one at a time).
A measurement only: the app reads with one model.

The drawings go through canvas_to_mnist exactly as in eval_real_drawings.py
(same canvases for the same --seed), each model softened by its own blur.

    .venv/bin/python scripts/average_models.py A.npz B.npz [--data ../shared/data] [--limit N]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

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


def probabilities(model, images, blur_images=True):
    """The model's (m, 10) probabilities, drawings softened by the model's own blur."""
    blur = input_blur(model) if blur_images else 0.0
    if blur:
        images = np.stack([preprocess.soften(image, blur) for image in images])
    return model.predict_proba(images)


def reading_ms(models, image, repeats=200):
    """Median milliseconds to read one sharp drawing with all `models` (blur included)."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        sum(probabilities(model, image[None]) for model in models)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("models", nargs="+", type=Path)
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--limit", type=int, default=None, help="use only the first N pendigits")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random canvases")
    args = parser.parse_args(argv)
    data_dir = Path(args.data)
    if not (data_dir / "pendigits-train-strokes.npz").exists():
        parser.error(f"no pendigits-train-strokes.npz in {data_dir} (see --data)")

    models = [load_model(path) for path in args.models]
    test = fetch_mnist().test
    sets = {"MNIST test": (test.labels, test.images), **sharp_drawings(data_dir, args.limit, args.seed)}
    names = [str(path) for path in args.models] + ["average"]
    print(f"{'model':40s}" + "".join(f"{name:>15s}" for name in sets) + f"{'one reading':>15s}")
    scores = [[] for _ in names]
    for set_name, (labels, images) in sets.items():
        drawn = set_name != "MNIST test"  # MNIST's digits are soft already: no blur
        each = [probabilities(model, images, drawn) for model in models]
        for row, p in zip(scores, each + [sum(each)]):
            row.append(float(np.mean(p.argmax(axis=1) == labels)))
    one = sets["real drawings"][1][0]
    times = [reading_ms([model], one) for model in models] + [reading_ms(models, one)]
    for name, row, ms in zip(names, scores, times):
        print(f"{name:40s}" + "".join(f"{a:>15.2%}" for a in row) + f"{ms:>12.2f} ms")


if __name__ == "__main__":
    main()
