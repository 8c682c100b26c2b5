"""Build the digit atlas (network/novelty.py), calibrate it, and measure it.

The atlas is ATLAS_SIZE MNIST training digits put through the Draw page's
preprocessing. Its threshold is the distance 99% of real drawn digits stay
under: the first half of the pendigits pen trajectories (../shared/data),
rendered as a canvas draws them. Then, on drawings the calibration never saw:

- false alarms (a real digit called "not a digit"): the other half of the
  pendigits, hwd1000's paint-program digits, MNIST's test set (each
  image through the same preprocessing, as if drawn);
- detections: letters and doodles drawn as strokes (scripts/not_digits.py),
  letters typed in DejaVu fonts when the machine has them;
- the same for the alternatives tried and dropped, each with its threshold
  calibrated the same way: the shipped model's top probability, the
  Mahalanobis distance of its last hidden layer's features to per-digit
  Gaussians with a shared covariance (Lee et al. 2018), and how much of the
  drawing the atlas's principal components leave unexplained.

    .venv/bin/python scripts/novelty_figures.py [--write] [--data ../shared/data] [--json]

--write saves models/digit-atlas.npz (the shipped atlas is made this way).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from network import novelty  # noqa: E402
from network.mnist import fetch_mnist  # noqa: E402
from network.modelfile import input_blur, load_model  # noqa: E402
from network.preprocess import canvas_to_mnist, soften  # noqa: E402
from network.shapes import as_columns  # noqa: E402
from scripts.not_digits import DOODLES, LETTERS, font_canvases, stroke_canvases  # noqa: E402
from scripts.render_strokes import load_pendigits, random_canvas  # noqa: E402

PER_SHAPE = 40  # random drawings of each letter and doodle


def drawn(canvases):
    """(names, pixels (m, 28, 28)) of canvases through canvas_to_mnist, skipping empty ones."""
    names, pixels = [], []
    for name, canvas in canvases:
        drawing = canvas_to_mnist(canvas, ink="light")
        if not drawing.empty:
            names.append(name)
            pixels.append(drawing.pixels)
    return np.array(names), np.stack(pixels)


def real_digits(data_dir, seed):
    """The pendigits rendered as canvas drawings (as eval_real_drawings.py
    does, same seed), and hwd1000's digits as if drawn."""
    digits, labels = load_pendigits(data_dir / "pendigits-train-strokes.npz")
    rng = np.random.default_rng(seed)
    _, pen = drawn((str(label), random_canvas(strokes, rng)) for strokes, label in zip(digits, labels))
    with np.load(data_dir / "hwd1000.npz") as data:
        hwd = novelty.as_drawn(data["images"]).reshape(-1, 28, 28)
    return pen, hwd


# --- The alternatives, for comparison: a score per image, higher = less like a digit.

def penultimate(net, images, batch=1000):
    """What the last layer reads, (m, d), a batch at a time (a CNN's im2col is large)."""
    parts = []
    for start in range(0, len(images), batch):
        A = as_columns(images[start:start + batch])
        for layer in net.layers[:-1]:
            A = layer.forward(A)
        parts.append(A.T.astype(np.float64))
    return np.concatenate(parts)


def mahalanobis_score(net, images, labels):
    """Lee et al.'s score, fitted on training images: min over digits of (f - mu_c)^T S^-1 (f - mu_c)."""
    f = penultimate(net, images)
    means = np.stack([f[labels == c].mean(axis=0) for c in range(10)])
    centred = f - means[labels]
    covariance = centred.T @ centred / len(f)
    covariance = 0.9 * covariance + 0.1 * np.diag(np.diag(covariance)) + 1e-6 * np.eye(len(covariance))
    precision = np.linalg.inv(covariance)

    def score(pixels):
        g = penultimate(net, pixels)
        return np.min([np.einsum("ij,jk,ik->i", g - mu, precision, g - mu) for mu in means], axis=0)
    return score


def reconstruction_score(digits, components=50):
    """The part of a drawing the atlas's 50 principal components do not explain (PCA)."""
    mean = digits.mean(axis=0)
    basis = np.linalg.svd(digits - mean, full_matrices=False)[2][:components]

    def score(pixels):
        centred = pixels.reshape(len(pixels), -1) - mean
        return np.linalg.norm(centred - centred @ basis.T @ basis, axis=1)
    return score


def top_probability_score(net):
    return lambda pixels: -net.predict_proba(pixels).max(axis=1)


def rates(score, calibration, sets):
    """Share of each set above the threshold that QUANTILE of `calibration` stays under."""
    threshold = np.quantile(score(calibration), novelty.QUANTILE)
    return {name: float(np.mean(score(pixels) > threshold)) for name, pixels in sets.items()}


def measure(data_dir, seed=0, write=False, model_path=ROOT / "models" / "default.npz"):
    started = time.perf_counter()
    mnist = fetch_mnist()
    chosen = np.random.default_rng(seed).permutation(len(mnist.train))[:novelty.ATLAS_SIZE]
    atlas_digits = np.round(novelty.as_drawn(mnist.train.images[chosen]) * 255) / np.float32(255)
    pen, hwd = real_digits(data_dir, seed)
    half = len(pen) // 2
    atlas = novelty.calibrated(atlas_digits.astype(np.float32), pen[:half])
    if write:
        novelty.save_atlas(atlas)

    letter_names, letters = drawn(stroke_canvases(LETTERS, PER_SHAPE, seed + 1))
    doodle_names, doodles = drawn(stroke_canvases(DOODLES, PER_SHAPE, seed + 2))
    font_names, fonts = drawn(font_canvases(PER_SHAPE // 4, seed + 3))
    mnist_test = novelty.as_drawn(mnist.test.images).reshape(-1, 28, 28)
    real = {"pendigits (other half)": pen[half:], "hwd1000": hwd, "MNIST test": mnist_test}
    fake = {"letters (strokes)": letters, "doodles": doodles, "letters (DejaVu fonts)": fonts}

    flagged = {name: novelty.distances(atlas, pixels) > atlas.threshold for name, pixels in {**real, **fake}.items()}
    per_shape = {}
    for names, set_name in ((letter_names, "letters (strokes)"), (doodle_names, "doodles"),
                            (font_names, "letters (DejaVu fonts)")):
        per_shape.update({str(n): float(flagged[set_name][names == n].mean()) for n in np.unique(names)})

    net = load_model(model_path)
    blur = input_blur(net)

    def as_the_model_sees(pixels):
        return np.stack([soften(p, blur) for p in pixels]) if blur else pixels
    model_sets = {name: as_the_model_sees(pixels) for name, pixels in {**real, **fake}.items()}
    model_sets["MNIST test"] = mnist.test.images  # the network's own kind of input
    fit = np.random.default_rng([seed, 1]).permutation(len(mnist.train))[:10_000]
    alternatives = {
        "top probability": rates(top_probability_score(net), as_the_model_sees(pen[:half]), model_sets),
        "Mahalanobis, last hidden layer": rates(
            mahalanobis_score(net, mnist.train.images[fit], mnist.train.labels[fit]),
            as_the_model_sees(pen[:half]), model_sets),
        "PCA reconstruction error (50 components)": rates(reconstruction_score(atlas.digits), pen[:half],
                                                          {**real, **fake}),
    }
    fooled = net.predict_proba(model_sets["letters (strokes)"]).max(axis=1)
    return {
        "atlas_size": len(atlas.digits),
        "threshold": atlas.threshold,
        "calibrated_on": f"{half} pendigits (the first half), quantile {novelty.QUANTILE}",
        "false_alarms": {name: float(flagged[name].mean()) for name in real},
        "detected": {name: float(flagged[name].mean()) for name in fake},
        "sizes": {name: len(pixels) for name, pixels in {**real, **fake}.items()},
        "detected_per_shape": per_shape,
        "model": str(model_path.relative_to(ROOT) if model_path.is_relative_to(ROOT) else model_path),
        "model_median_confidence_on_letters": float(np.median(fooled)),
        "alternatives": alternatives,
        "check_ms_per_drawing": check_time(atlas, pen[:200]),
        "seconds": time.perf_counter() - started,
    }


def check_time(atlas, pixels):
    """Median milliseconds of one drawing's check, as the Draw page runs it."""
    times = []
    for p in pixels:
        start = time.perf_counter()
        novelty.looks_like_a_digit(atlas, p)
        times.append(time.perf_counter() - start)
    return 1000 * float(np.median(times))


def report(result):
    lines = [f"atlas of {result['atlas_size']:,} MNIST training digits as drawn; threshold "
             f"{result['threshold']:.3f}, calibrated on {result['calibrated_on']}",
             f"one check: {result['check_ms_per_drawing']:.2f} ms median",
             "false alarms (real digits called not a digit):"]
    sizes = result["sizes"]
    lines += [f"  {name:28s} {rate:7.2%}  of {sizes[name]:,}" for name, rate in result["false_alarms"].items()]
    lines.append("detected (not a digit, said so):")
    lines += [f"  {name:28s} {rate:7.2%}  of {sizes[name]:,}" for name, rate in result["detected"].items()]
    lines.append("  per shape: " + ", ".join(f"{n} {r:.0%}" for n, r in result["detected_per_shape"].items()))
    lines.append(f"{result['model']} alone, on the stroke letters: median top probability "
                 f"{result['model_median_confidence_on_letters']:.1%}")
    lines.append(f"alternatives on {result['model']} (same calibration):")
    for name, row in result["alternatives"].items():
        lines.append(f"  {name:32s} " + "  ".join(f"{set_name} {rate:.1%}" for set_name, rate in row.items()))
    return "\n".join(lines)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--write", action="store_true", help="save models/digit-atlas.npz")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    data_dir = Path(args.data)
    if not (data_dir / "pendigits-train-strokes.npz").exists():
        parser.error(f"no pendigits-train-strokes.npz in {data_dir} (see --data)")
    result = measure(data_dir, args.seed, args.write)
    print(json.dumps(result, indent=2) if args.json else report(result))


if __name__ == "__main__":
    main()
