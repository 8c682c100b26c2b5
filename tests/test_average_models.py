"""scripts/average_models.py: the figure for two models averaged (a measurement, not the app)."""

from pathlib import Path

import numpy as np
import pytest

SHIPPED = str(Path(__file__).resolve().parent.parent / "models" / "default.npz")


@pytest.fixture
def drawings_dir(tmp_path):
    """A stand-in for ../shared/data: three pen trajectories (a 1, a 7, a 0) and hwd1000-like images."""
    one = [np.array([[50, 0], [50, 100]], np.float32)]
    seven = [np.array([[0, 0], [60, 0], [20, 100]], np.float32)]
    angles = np.linspace(0, 2 * np.pi, 30)
    zero = [np.stack([50 + 30 * np.cos(angles), 50 + 50 * np.sin(angles)], axis=1).astype(np.float32)]
    strokes = one + seven + zero
    points = np.concatenate(strokes)
    stroke_ptr = np.cumsum([0] + [len(s) for s in strokes])
    np.savez(tmp_path / "pendigits-train-strokes.npz", points=points, stroke_ptr=stroke_ptr,
             sample_ptr=np.arange(4), labels=np.array([1, 7, 0]))
    images = np.zeros((2, 28, 28), np.uint8)
    images[:, 4:24, 13:15] = 255
    np.savez(tmp_path / "hwd1000.npz", images=images, labels=np.array([1, 1]))
    return tmp_path


def test_average_of_a_model_with_itself_reads_as_the_model(drawings_dir, mnist_cache, capsys):
    if mnist_cache is None:
        pytest.skip("MNIST cannot be had here")
    from scripts.average_models import main

    main([SHIPPED, SHIPPED, "--data", str(drawings_dir)])
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split()[:4] == ["model", "MNIST", "test", "real"]
    rows = [line.split() for line in lines[1:]]
    assert [row[0] for row in rows] == [SHIPPED, SHIPPED, "average"]
    assert rows[0][1:4] == rows[2][1:4]                     # the same probabilities, twice, read alike
    assert float(rows[0][1].rstrip("%")) > 99               # the shipped model on MNIST's test set
    assert all(row[-1] == "ms" for row in rows)


def test_average_models_needs_the_drawings(tmp_path, capsys):
    from scripts.average_models import main

    with pytest.raises(SystemExit):
        main([SHIPPED, SHIPPED, "--data", str(tmp_path)])
    assert "no pendigits-train-strokes.npz" in capsys.readouterr().err


def test_variants_turn_slant_and_resize_about_the_centre():
    from scripts.average_models import VARIANTS, varied

    bar = np.zeros((28, 28), np.float32)
    bar[4:24, 13:15] = 1                                    # upright, centred
    assert np.array_equal(varied(bar, 0, 0, 1), bar)        # no change is no change
    assert np.allclose(varied((bar * 255).astype(np.uint8), 0, 0, 1), bar)   # MNIST's 0..255 read as 0..1
    for degrees, slant, size in VARIANTS:
        moved = varied(bar, degrees, slant, size)
        rows, cols = np.nonzero(moved > 0.5)
        assert abs(rows.mean() - 13.5) < 0.6 and abs(cols.mean() - 13.5) < 0.6   # still centred
        assert (moved.sum() > bar.sum()) == (size > 1) or size == 1               # resized by `size`
    turned = varied(bar, 8, 0, 1) > 0.5
    rows, cols = np.nonzero(turned)
    assert cols[rows == rows.min()].mean() != cols[rows == rows.max()].mean()  # the ends moved apart sideways


def test_variants_average_of_a_model_with_itself_reads_as_the_model(drawings_dir, mnist_cache, capsys):
    if mnist_cache is None:
        pytest.skip("MNIST cannot be had here")
    from scripts.average_models import main

    main([SHIPPED, SHIPPED, "--data", str(drawings_dir), "--variants"])
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[1:]]
    assert rows[0][1:4] == rows[2][1:4]
    assert float(rows[0][1].rstrip("%")) > 99               # the variants do not spoil MNIST
