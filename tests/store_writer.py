"""A process writing drawings into a store as fast as it can (the store's
concurrency tests start several, then say go on stdin):  python -m tests.store_writer LOCATION WRITER COUNT

Drawing i of writer w carries a pattern that says (w, i) in every one of
its pixels, its label and its canvas, so a torn or mixed-up row shows."""

import sys

import numpy as np

from network.database import Database
from network.store import Store


def pattern(writer, i):
    """28x28 pixels in [0, 1] that only drawing (writer, i) has."""
    rng = np.random.default_rng(writer * 1_000_003 + i)
    return rng.integers(0, 256, (28, 28)).astype(np.float32) / 255


def canvas(writer, i):
    return np.full((40, 40), (writer * 31 + i) % 256, np.uint8)


def main(location, writer, count):
    store = Store(Database(location))
    print("ready", flush=True)
    sys.stdin.readline()   # all writers start together, on "go"
    for i in range(count):
        store.add_drawing(pattern(writer, i), (writer + i) % 10, "correction", predicted=i % 10,
                          confidence=0.5, model=f"{writer}-{i}", canvas=canvas(writer, i))
        print(i, flush=True)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
