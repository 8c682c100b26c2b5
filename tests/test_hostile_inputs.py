"""Hostile images, canvases and CSVs (issue 14, D5 D9 D10), and the command
line's answer to every bad input: exit 2 and one line."""

import io
import json
import struct
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from network.cli import main
from network.csvfile import load_csv
from network.errors import DataError
from network.images import ImageError, decode_canvas, load_image
from network.model import architecture
from network.store import encode_canvas
from tests.drawn import draw_digit
from tests.test_budgets import metadata, model_bytes

MB = 1024 * 1024


def png_claiming(width, height):
    """A tiny PNG (1x1 pixels of data) whose header claims width x height."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, format="PNG")
    data = bytearray(buffer.getvalue())
    ihdr = 8 + 8  # signature, then the IHDR chunk's length and type
    data[ihdr:ihdr + 8] = struct.pack(">II", width, height)
    data[ihdr + 13:ihdr + 17] = struct.pack(">I", zlib.crc32(bytes(data[ihdr - 4:ihdr + 13])))
    return bytes(data)


def canvas_png(rgba):
    buffer = io.BytesIO()
    Image.fromarray(rgba).save(buffer, format="PNG")
    return buffer.getvalue()


def peak_of(action):
    tracemalloc.start()
    try:
        result = action()
        return result, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("side", [12_000, 20_000])
def test_d5_a_canvas_claiming_a_huge_size_is_an_empty_canvas_at_no_cost(side):
    result, peak = peak_of(lambda: decode_canvas(png_claiming(side, side), 280))
    assert result is None and peak < MB


def test_d5_a_canvas_of_the_wrong_size_or_not_an_image_is_an_empty_canvas():
    assert decode_canvas(canvas_png(draw_digit(1, size=100)), 280) is None
    assert decode_canvas(b"GIF89a not a png", 280) is None
    assert decode_canvas(b"\x89PNG\r\n\x1a\n" + bytes(100), 280) is None
    assert decode_canvas(None, 280) is None
    assert decode_canvas(canvas_png(draw_digit(1))[:-40], 280) is None  # truncated


def test_d5_a_real_canvas_is_decoded_and_a_high_density_one_brought_to_size():
    digit = draw_digit(7)
    np.testing.assert_array_equal(decode_canvas(canvas_png(digit), 280), digit)
    double = np.asarray(Image.fromarray(digit).resize((560, 560), Image.Resampling.NEAREST))
    assert decode_canvas(canvas_png(double), 280).shape == (280, 280, 4)


def test_d5_bytes_appended_to_a_canvas_are_never_stored():
    png = canvas_png(draw_digit(3))
    padded = png + bytes(MB)  # a valid PNG, then a megabyte of anything
    pixels = decode_canvas(padded, 280)
    stored = encode_canvas(pixels)  # what the store keeps: re-encoded from the pixels
    assert len(stored) < len(png)
    assert decode_canvas(png + bytes(3 * MB), 280) is None  # beyond any canvas's PNG


def test_d10_load_image_refuses_a_decompression_bomb_from_its_header(tmp_path):
    path = tmp_path / "huge.png"
    path.write_bytes(png_claiming(20_000, 20_000))
    with pytest.raises(ImageError, match="too large"):
        load_image(path)
    result, peak = peak_of(lambda: _refused(load_image, path))
    assert result and peak < MB


def _refused(function, *args):
    try:
        function(*args)
    except ImageError:
        return True
    return False


def test_d10_predict_reports_a_bomb_as_its_error_line_and_reads_the_others(capsys, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    (folder / "a-huge.png").write_bytes(png_claiming(20_000, 20_000))
    (folder / "b-huge.png").write_bytes(png_claiming(12_000, 12_000))
    Image.fromarray(draw_digit(1)).save(folder / "c-one.png")
    code = main(["predict", "--model", "default", "--json", str(folder)])
    out, err = capsys.readouterr()
    assert code == 0, err
    results = {Path(r["file"]).name: r for r in map(json.loads, out.splitlines())}
    assert "too large" in results["a-huge.png"]["error"] and "too large" in results["b-huge.png"]["error"], results
    assert results["c-one.png"]["digit"] == 1


def long_header_csv(path, length=300_000):
    path.write_text("label," + "x" * length + "\n" + "1\n" * 20)
    return path


def test_d9_a_csv_with_an_enormous_header_line_is_refused_in_one_line(tmp_path):
    with pytest.raises(DataError, match="300,006 characters long"):
        load_csv(long_header_csv(tmp_path / "long.csv"))
    quoted = tmp_path / "quoted.csv"
    quoted.write_text('label,"pixel0\n' + "1\n" * 20)
    with pytest.raises(DataError, match="header"):
        load_csv(quoted)


def test_d9_the_command_line_exits_2_with_one_line_for_it(capsys, tmp_path, data_dir):
    code = main(["train", "--preset", "fast", "--data", str(long_header_csv(tmp_path / "long.csv"))])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and "characters long" in err


@pytest.mark.parametrize("error", [MemoryError, RecursionError])
def test_the_command_line_exits_2_for_input_too_large_to_read(capsys, monkeypatch, error):
    import network.cli as cli

    def hostile(_):
        raise error()
    monkeypatch.setattr(cli, "load_model", hostile)
    code = main(["evaluate", "--model", "default"])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and error.__name__ in err


def test_d1_the_command_line_refuses_a_huge_declared_model_in_one_line(capsys, tmp_path):
    path = tmp_path / "huge.npz"
    path.write_bytes(model_bytes(metadata(architecture(hidden=(4096, 4096, 4096)))))
    code = main(["evaluate", "--model", str(path)])
    _, err = capsys.readouterr()
    assert code == 2 and len(err.strip().splitlines()) == 1 and "too large for this app" in err


WRITER = """
import sys, time
from pathlib import Path
from network.files import write_atomically
def write(file):
    file.write(b"half a model")
    file.flush()
    print("writing", flush=True)
    time.sleep(60)
write_atomically(Path(sys.argv[1]), write)
"""


def test_d13_what_a_killed_write_leaves_is_removed_at_start_and_nothing_else(tmp_path, data_dir):
    import os
    import subprocess
    import sys
    import time

    from network.files import remove_stale_temporaries
    models = data_dir / "models"
    models.mkdir()
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(models / "mine.npz")], stdout=subprocess.PIPE,
                              cwd=Path(__file__).resolve().parent.parent)
    assert writer.stdout.readline() == b"writing\n"
    writer.kill()  # kill -9 in the middle of the write
    writer.wait()
    writer.stdout.close()
    (leftover,) = models.glob(".mine.npz.*.tmp")
    young = models / ".other.npz.abcd1234.tmp"
    young.write_bytes(b"a write in progress")
    keep = [models / "notes.tmp", models / ".hidden.tmp", data_dir / "kept.npz"]
    for path in keep:
        path.write_bytes(b"not ours")
    old = time.time() - 3600
    for path in [leftover, *keep]:
        os.utime(path, (old, old))
    assert main(["class", "purge", "--older-than", "1000d"]) == 0  # any command cleans up first
    assert not leftover.exists()
    assert young.exists() and all(path.exists() for path in keep)
    assert remove_stale_temporaries(models, age=0) == 1 and not young.exists()


def test_d11_a_csv_is_parsed_into_uint8_without_copies_of_its_text():
    rng = np.random.default_rng(0)
    rows = np.column_stack([rng.integers(0, 10, 3000), rng.integers(0, 256, (3000, 784))])
    text = io.StringIO()
    text.write("label," + ",".join(f"pixel{i}" for i in range(784)) + "\n")
    np.savetxt(text, rows, fmt="%d", delimiter=",")
    upload = io.BytesIO(text.getvalue().encode())
    upload.name = "big.csv"
    size = len(upload.getvalue())
    digits, peak = peak_of(lambda: load_csv(upload))
    assert digits.images.dtype == np.uint8 and len(digits) == 3000
    np.testing.assert_array_equal(digits.images.reshape(3000, 784), rows[:, 1:])
    assert peak < size + 16 * MB  # the bytes read once, the digits and a chunk (it was 8 times the file)
