"""How well do the preprocessing and a model read real drawings, not MNIST?

Replays the pendigits pen trajectories as browser-canvas drawings (random
line width, size and place, see render_strokes.py), reads the hwd1000 paint
program digits, and puts both through network.preprocess.canvas_to_mnist and
a model. Prints accuracy overall, per digit, the commonest confusions, the
preprocessing time, and a table comparing preprocessing pipelines: the plain
resize most drawing apps use, MNIST's crop + scale + centre, and each extra
step, kept (in canvas_to_mnist) or tried and dropped (defined here).

The data lives outside the project (../shared/data, read-only, see its
README); it is only ever read, never copied or trained on.

    .venv/bin/python scripts/eval_real_drawings.py [--model models/default.npz]
        [--data ../shared/data] [--limit N] [--seed 0] [--json]
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network import preprocess  # noqa: E402
from network.modelfile import input_blur, load_model  # noqa: E402
from scripts.render_strokes import LINE_WIDTH_RANGE, draw_dot, load_pendigits, random_canvas  # noqa: E402

SHIPPED = "canvas_to_mnist (shipped)"


# --- Preprocessing pipelines: each maps an image to (28, 28) float32 or None.

def shipped(image):
    """What the app does: canvas_to_mnist."""
    return preprocess.canvas_to_mnist(image).pixels


def plain_resize(image):
    """What most drawing apps do: shrink the whole canvas to 28x28."""
    ink = preprocess.ink_map(image)
    return np.asarray(Image.fromarray(ink).resize((28, 28), Image.Resampling.BOX))


def mnist_steps(image, stroke_width=False, centre=preprocess.centre_by_mass):
    """MNIST's crop + scale to 20 px + centre, optionally with the stroke-width step."""
    ink = preprocess.ink_map(image)
    is_ink = ink >= preprocess.INK_LEVEL
    if is_ink.sum() < preprocess.MIN_INK_PIXELS:
        return None
    cropped = preprocess.crop_to_ink(ink, is_ink)
    if stroke_width:
        work = preprocess.scale_longer_side(cropped, preprocess.WORK_BOX)
        cropped = preprocess.normalise_stroke_width(work, preprocess.stroke_width(work))
    return centre(preprocess.scale_longer_side(cropped, preprocess.DIGIT_BOX), preprocess.MNIST_SIZE)


def centre_by_box(digit, size):
    """Centre the digit's bounding box instead of its centre of mass."""
    frame = np.zeros((size, size), dtype=np.float32)
    top, left = (size - digit.shape[0]) // 2, (size - digit.shape[1]) // 2
    frame[top:top + digit.shape[0], left:left + digit.shape[1]] = digit
    return frame


def deskewed(image):
    """Shipped, then straightened by its second moments (MNIST-SVM style deskew).

    Dropped: the network learnt from slanted MNIST digits, and straightening
    only the drawings does not help it (measured on three models trained by
    the engine and two throwaway MLPs: -0.9 to +0.1 points).
    """
    pixels = shipped(image)
    if pixels is None:
        return None
    rows, cols = np.mgrid[0:28, 0:28].astype(np.float32)
    total = pixels.sum()
    row_mean, col_mean = (pixels * rows).sum() / total, (pixels * cols).sum() / total
    covariance = (pixels * (rows - row_mean) * (cols - col_mean)).sum() / total
    variance = (pixels * (rows - row_mean) ** 2).sum() / total
    skew = covariance / variance
    # Output (x, y) samples the input at x + skew (y - centre): slant removed.
    shear = (1, skew, -skew * 14, 0, 1, 0)
    image = Image.fromarray(pixels).transform((28, 28), Image.Transform.AFFINE, shear,
                                              Image.Resampling.BILINEAR)
    return np.asarray(image)


PIPELINES = {
    "plain resize of the canvas": plain_resize,
    "crop + scale 20 + centre box": lambda image: mnist_steps(image, centre=centre_by_box),
    "crop + scale 20 + centre mass": mnist_steps,
    "+ stroke width": lambda image: mnist_steps(image, stroke_width=True),
    SHIPPED: shipped,  # + stray-mark removal and the dot check
    "shipped + deskew (dropped)": deskewed,
    # canvas_to_mnist ends with the blur each model asks for (its input_blur:
    # 0.7 px for the shipped CNN, which gains ~0.8 points; MLPs lose by it).
    "shipped without the model's blur": shipped,
}


# --- Data

def pendigit_canvases(data_dir, limit, seed):
    """Yield (label, canvas, canvas with a stray dot or None) for each pendigit."""
    digits, labels = load_pendigits(data_dir / "pendigits-train-strokes.npz")
    rng = np.random.default_rng(seed)
    dot_rng = np.random.default_rng([seed, 1])  # dots never change the clean canvases
    for strokes, label in list(zip(digits, labels))[:limit]:
        canvas = random_canvas(strokes, rng)
        yield int(label), canvas, with_stray_dot(canvas, dot_rng)


def with_stray_dot(canvas, rng, clearance=20):
    """The canvas plus a tap of the pen at least `clearance` px clear of the digit, or None."""
    rows, cols = np.nonzero(canvas[..., 3] > 0)
    diameter = rng.uniform(*LINE_WIDTH_RANGE)
    size = canvas.shape[0]
    for _ in range(100):
        x, y = rng.uniform(diameter / 2, size - diameter / 2, 2)
        gap = clearance + diameter / 2
        if x < cols.min() - gap or x > cols.max() + gap or y < rows.min() - gap or y > rows.max() + gap:
            return draw_dot(canvas, (x, y), diameter)
    return None


def hwd_images(data_dir):
    """hwd1000 as given (28x28) and as if drawn on the 280 px canvas (bilinear x10)."""
    with np.load(data_dir / "hwd1000.npz") as data:
        images, labels = data["images"], data["labels"]
    enlarged = [np.asarray(Image.fromarray(i).resize((280, 280), Image.Resampling.BILINEAR)) for i in images]
    return labels, images, enlarged


# --- Measuring

def predictions(model, images):
    """Predicted digits; -1 where preprocessing found no digit."""
    found = [i for i, image in enumerate(images) if image is not None]
    predicted = np.full(len(images), -1)
    if found:
        batch = np.stack([images[i] for i in found]).astype(np.float32)
        predicted[found] = model.predict_proba(batch).argmax(axis=1)
    return predicted


def accuracy(predicted, labels):
    return float(np.mean(predicted == labels)) if len(labels) else float("nan")


def preprocess_all(data_dir, limit=None, seed=0):
    """Every pipeline's images of every data set, and canvas_to_mnist's times.

    Returns ({set name: (labels, {pipeline: list of images or None})}, seconds).
    Each canvas is rendered once and goes through every pipeline.
    """
    clean, dotted = {name: [] for name in PIPELINES}, {name: [] for name in PIPELINES}
    labels, dotted_labels, seconds = [], [], []
    for label, canvas, canvas_with_dot in pendigit_canvases(data_dir, limit, seed):
        labels.append(label)
        for name, pipeline in PIPELINES.items():
            start = time.perf_counter()
            clean[name].append(pipeline(canvas))
            if name == SHIPPED:
                seconds.append(time.perf_counter() - start)
            if canvas_with_dot is not None:
                dotted[name].append(pipeline(canvas_with_dot))
        if canvas_with_dot is not None:
            dotted_labels.append(label)
    hwd_labels, hwd_small, hwd_large = hwd_images(data_dir)
    sets = {
        "pendigits": (np.array(labels), clean),
        "pendigits + stray dot": (np.array(dotted_labels), dotted),
        "hwd1000 28px": (hwd_labels, {name: [p(i) for i in hwd_small] for name, p in PIPELINES.items()}),
        "hwd1000 280px": (hwd_labels, {name: [p(i) for i in hwd_large] for name, p in PIPELINES.items()}),
    }
    return sets, seconds


def score(model, sets):
    """One model's accuracy on every set through every pipeline, and details for the shipped one."""
    table = {name: {} for name in PIPELINES}
    blur = input_blur(model)
    # canvas_to_mnist's last step is the blur the model asks for: apply it here.
    sets = {set_name: (labels, {**images, SHIPPED: [None if x is None else preprocess.soften(x, blur)
                                                    for x in images[SHIPPED]] if blur else images[SHIPPED]})
            for set_name, (labels, images) in sets.items()}
    for set_name, (labels, images) in sets.items():
        for name in PIPELINES:
            table[name][set_name] = accuracy(predictions(model, images[name]), labels)
    labels, images = sets["pendigits"]
    predicted = predictions(model, images[SHIPPED])
    return {
        "input_blur": blur,
        "pendigits_accuracy": table[SHIPPED]["pendigits"],
        "pendigits_per_digit": {str(d): accuracy(predicted[labels == d], labels[labels == d]) for d in range(10)},
        "pendigits_empty": int(np.sum(predicted == -1)),
        "top_confusions": confusions(predicted, labels),
        "hwd1000_accuracy": table[SHIPPED]["hwd1000 28px"],
        "comparison": table,
    }


def evaluate(model_paths, data_dir, limit=None, seed=0):
    """Preprocess everything once, score each model; return a JSON-ready dict."""
    sets, seconds = preprocess_all(data_dir, limit, seed)
    return {
        "seed": seed,
        "sizes": {name: len(labels) for name, (labels, _) in sets.items()},
        "preprocess_median_ms": 1000 * float(np.median(seconds)),
        "models": {str(path): score(load_model(path), sets) for path in model_paths},
    }


def confusions(predicted, labels, top=8):
    """The commonest (true, predicted, count) mistakes."""
    pairs = {}
    for true, guess in zip(labels.tolist(), predicted.tolist()):
        if true != guess:
            pairs[(true, guess)] = pairs.get((true, guess), 0) + 1
    worst = sorted(pairs.items(), key=lambda item: -item[1])[:top]
    return [{"true": t, "predicted": p, "count": n} for (t, p), n in worst]


def report(result):
    """The result as text for a person."""
    sizes = result["sizes"]
    lines = [f"seed {result['seed']}; " + ", ".join(f"{name}: {n}" for name, n in sizes.items()),
             f"canvas_to_mnist median {result['preprocess_median_ms']:.2f} ms per 280x280 canvas"]
    for path, scores in result["models"].items():
        lines += [
            "",
            f"model {path}",
            f"canvas_to_mnist: pendigits {scores['pendigits_accuracy']:.2%}  "
            f"hwd1000 {scores['hwd1000_accuracy']:.2%}  (no digit found: {scores['pendigits_empty']})",
            "per digit: " + "  ".join(f"{d}: {a:.1%}" for d, a in scores["pendigits_per_digit"].items()),
            "commonest mistakes (true -> read): " + ", ".join(
                f"{c['true']}->{'nothing' if c['predicted'] < 0 else c['predicted']} x{c['count']}"
                for c in scores["top_confusions"]),
            f"{'pipeline':34s}" + "".join(f"{name:>23s}" for name in sizes),
        ]
        for name, row in scores["comparison"].items():
            lines.append(f"{name:34s}" + "".join(f"{row[s]:>23.2%}" for s in sizes))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--model", action="append", help="a model file; repeat to compare models "
                        "(default: models/default.npz)")
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--limit", type=int, default=None,
                        help="use only the first N pendigits (hwd1000 is small, always whole)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random canvases")
    parser.add_argument("--json", action="store_true", help="print the result as JSON")
    args = parser.parse_args(argv)

    data_dir = Path(args.data)
    if not (data_dir / "pendigits-train-strokes.npz").exists():
        parser.error(f"no pendigits-train-strokes.npz in {data_dir} (see --data)")
    models = args.model or [ROOT / "models" / "default.npz"]
    result = evaluate(models, data_dir, args.limit, args.seed)
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
