"""Does fine-tuning on people's drawings help the network read other drawings?

Renders the pendigits pen trajectories as a browser canvas draws them (as
eval_real_drawings.py does), puts them through the Draw page's
preprocessing with the model's blur, fine-tunes a copy of the model on
some of them (network/finetune.py, the recipe the app and the CLI use) and
reports accuracy before and after on the rest, on hwd1000 (other people,
a paint program) and on MNIST's test set.

The npz has no writer ids, and its order is shuffled (per-block statistics
of 250 digits vary no more than random blocks do), so the split is by
drawing: the same 30 writers are on both sides, which flatters the gain.
hwd1000's writers are truly others.  The model file is only read; the
fine-tuned copy is written only with --out.  The data is never copied.

    .venv/bin/python scripts/finetune_real_drawings.py [--model models/default.npz]
        [--train 500] [--steps 300] [--data ../shared/data] [--out PATH] [--json]
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

from network.digits import Digits  # noqa: E402
from network.drawing_sets import DrawingSet  # noqa: E402
from network.finetune import FinetuneRecipe, Finetuning  # noqa: E402
from network.mnist import fetch_mnist  # noqa: E402
from network.modelfile import input_blur, load_model, save_model  # noqa: E402
from network.preprocess import canvas_to_mnist  # noqa: E402
from scripts.eval_real_drawings import hwd_images, pendigit_canvases  # noqa: E402


def rendered_drawings(data_dir, blur, seed=0):
    """The pendigits as the Draw page would store them: uint8 network inputs."""
    images, labels = [], []
    for label, canvas, _ in pendigit_canvases(data_dir, None, seed):
        drawing = canvas_to_mnist(canvas, blur=blur)
        if not drawing.empty:
            images.append((drawing.pixels * 255).round().astype(np.uint8))
            labels.append(label)
    return Digits(np.stack(images), np.array(labels, dtype=np.int64), "pendigits rendered")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, default=ROOT / "models" / "default.npz")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--train", type=int, default=500, help="drawings to learn from; the rest are held out")
    parser.add_argument("--steps", type=int, default=FinetuneRecipe.steps)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="save the fine-tuned copy here")
    parser.add_argument("--json", action="store_true")
    args = parser.parse_args(argv)
    if not (args.data / "pendigits-train-strokes.npz").exists():
        parser.error(f"{args.data}: no pendigits-train-strokes.npz (see ../shared/data/README.md)")

    net = load_model(args.model)
    blur = input_blur(net)
    drawings = rendered_drawings(args.data, blur, args.seed)
    writers = np.array([f"drawing {i}" for i in range(len(drawings))])   # no writer ids: see above
    hwd_labels, hwd_small, _ = hwd_images(args.data)
    hwd = np.stack([canvas_to_mnist(image, blur=blur).pixels for image in hwd_small])
    hwd_before = net.accuracy(hwd, hwd_labels)

    recipe = FinetuneRecipe(steps=args.steps, seed=args.seed, held_out_share=1 - args.train / len(drawings))
    run = Finetuning(net, DrawingSet(drawings, writers), fetch_mnist(), recipe)
    wall, cpu = time.perf_counter(), time.process_time()
    report = run.run()
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    report.update(model=str(args.model), hwd1000_before=hwd_before, hwd1000_after=net.accuracy(hwd, hwd_labels),
                  steps=args.steps, seconds=round(wall, 1), cpu_seconds=round(cpu, 1))
    if args.out:
        save_model(net, args.out, run.metadata(str(args.model), "pendigits rendered (shared data)"))
    if args.json:
        print(json.dumps(report))
        return
    for key, value in report.items():
        print(f"{key:>26}: {value:.2%}" if isinstance(value, float) and value <= 1 else f"{key:>26}: {value}")


if __name__ == "__main__":
    main()
