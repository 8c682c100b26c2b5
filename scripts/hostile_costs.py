"""What each hostile input of issue 14 costs now: its refusal and the peak
memory Python allocated meanwhile (tracemalloc), one row per input.

    .venv/bin/python scripts/hostile_costs.py

The inputs are the tests' own (tests/test_budgets.py, tests/test_hostile_inputs.py).
"""

import io
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from network.csvfile import load_csv  # noqa: E402
from network.errors import UserError  # noqa: E402
from network.images import decode_canvas, load_image  # noqa: E402
from network.model import architecture  # noqa: E402
from network.modelfile import load_model  # noqa: E402
from tests.test_budgets import metadata, model_bytes, zip_bomb  # noqa: E402
from tests.test_hostile_inputs import png_claiming  # noqa: E402


def cost(what, action):
    tracemalloc.start()
    start = time.perf_counter()
    try:
        result = action()
        outcome = "read" if result is not None else "read as an empty canvas"
    except UserError as error:
        outcome = "refused: " + str(error)[:90]
    seconds = time.perf_counter() - start
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    print(f"| {what} | {outcome} | {peak / 1e6:.1f} MB | {seconds * 1000:.0f} ms |")


def huge_declared_model():
    arch = architecture(hidden=(4096,), conv=[(256, 1)])
    arch["layers"] = [layer for layer in arch["layers"] if layer["type"] != "maxpool"]
    return model_bytes(metadata(arch))


def csv_upload(rows):
    rng = np.random.default_rng(0)
    text = io.StringIO()
    text.write("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n")
    np.savetxt(text, np.column_stack([rng.integers(0, 10, rows), rng.integers(0, 256, (rows, 784))]),
               fmt="%d", delimiter=",")
    upload = io.BytesIO(text.getvalue().encode())
    upload.name = f"{rows}-rows.csv"
    return upload


def main():
    bomb = zip_bomb(64 * 1024 * 1024)
    nested = '{"format": "digits-network", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    upload = csv_upload(20_000)
    folder = Path("/tmp") / "hostile-costs"
    folder.mkdir(exist_ok=True)
    (folder / "huge.png").write_bytes(png_claiming(20_000, 20_000))
    print("| input | outcome | peak memory | time |\n| --- | --- | --- | --- |")
    cost("D1 model file claiming conv 256x1 -> dense 4096 -> 10, no weights", lambda: load_model(huge_declared_model()))
    cost(f"D2 zip bomb ({len(bomb) / 1e3:.0f} KB inflating to 64 MB)", lambda: load_model(bomb))
    cost("D8 metadata nested 100,000 deep", lambda: load_model(model_bytes(nested)))
    cost("D5 canvas PNG claiming 12000x12000", lambda: decode_canvas(png_claiming(12_000, 12_000), 280))
    cost("D5 canvas PNG claiming 20000x20000", lambda: decode_canvas(png_claiming(20_000, 20_000), 280))
    cost("D10 image file claiming 20000x20000", lambda: load_image(folder / "huge.png"))
    cost(f"D11 CSV upload of 20,000 rows ({len(upload.getvalue()) / 1e6:.0f} MB)", lambda: load_csv(upload))


if __name__ == "__main__":
    main()
