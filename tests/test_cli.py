"""python -m network: exit codes, JSON lines, and each command end to end."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from network.cli import main
from tests.drawn import draw_digit
from tests.toys import toy_images

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def toy_csv(tmp_path):
    """A Kaggle-format train.csv of learnable toy digits."""
    images, labels = toy_images(400)
    path = tmp_path / "train.csv"
    header = "label," + ",".join(f"pixel{i}" for i in range(784))
    rows = np.column_stack([labels, images.reshape(len(labels), 784)])
    np.savetxt(path, rows, fmt="%d", delimiter=",", header=header, comments="")
    return path


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_train_on_a_csv_prints_json_lines_and_saves_a_model(capsys, toy_csv, tmp_path, data_dir):
    out_path = tmp_path / "toy.npz"
    code, out, err = run(capsys, "train", "--preset", "fast", "--data", str(toy_csv), "--epochs", "2",
                         "--dev-size", "100", "--eval-every", "2", "--json", "--out", str(out_path))
    assert code == 0, err
    lines = [json.loads(line) for line in out.splitlines()]
    events, done = lines[:-1], lines[-1]
    assert [e["step"] for e in events] == list(range(1, 7))  # 300 images / 128 = 3 steps per epoch
    assert {"epoch", "loss", "train_accuracy", "dev_accuracy", "learning_rate", "seconds",
            "samples_per_second"} <= set(events[0])
    assert done["done"] is True and done["model"] == str(out_path)
    assert done["dev_accuracy"] > 0.8 and done["test_accuracy"] is None  # a CSV has no official test set
    assert out_path.exists()


def test_seed_preset_flags_reproduce_the_notebook(capsys, toy_csv, tmp_path, data_dir):
    code, out, _ = run(capsys, "train", "--preset", "seed", "--data", str(toy_csv), "--iterations", "20",
                       "--dev-size", "100", "--json", "--out", str(tmp_path / "seed.npz"))
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()][:-1]
    assert [e["step"] for e in events if e["dev_accuracy"] is not None] == [10, 20]
    assert {e["learning_rate"] for e in events} == {0.1}
    from network.modelfile import load_model
    meta = load_model(tmp_path / "seed.npz").metadata
    assert meta["description"] == "784-10-10 relu"
    assert meta["config"]["batch_size"] is None and meta["config"]["init"] == "uniform"
    assert meta["data"]["dev_size"] == 100 and meta["data"]["train_size"] == 300


@pytest.mark.parametrize("argv", [
    ["train", "--lr", "abc"],
    ["train", "--batch-size", "many"],
    ["train", "--hidden", "12,x"],
    ["train", "--augment", "blur"],
    ["train", "--epochs", "2", "--iterations", "3"],
    ["train", "--preset", "nonsense"],
    ["evaluate", "--json", "--bogus"],
])
def test_bad_arguments_exit_2(capsys, argv):
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2


def test_bad_values_exit_2_with_one_line(capsys, toy_csv, data_dir):
    code, out, err = run(capsys, "train", "--data", str(toy_csv), "--lr", "-1")
    assert code == 2 and err.startswith("error: ") and err.count("\n") == 1


def test_a_malformed_csv_exits_2_with_one_line(capsys, tmp_path, data_dir):
    bad = tmp_path / "bad.csv"
    bad.write_text("label,pixel0\n1,2\n")
    code, _, err = run(capsys, "train", "--data", str(bad))
    assert code == 2 and "bad.csv" in err and err.count("\n") == 1


def test_diverging_training_exits_2_naming_the_learning_rate(capsys, toy_csv, tmp_path, data_dir):
    code, _, err = run(capsys, "train", "--preset", "fast", "--optimizer", "gd", "--lr", "10", "--epochs", "20",
                       "--json", "--dev-size", "100", "--data", str(toy_csv), "--out", str(tmp_path / "x.npz"))
    assert code == 2 and "learning rate" in err and err.count("\n") == 1


def test_a_corrupt_model_file_gives_one_line_and_exit_2(capsys, tmp_path):
    broken = tmp_path / "broken.npz"
    broken.write_bytes(b"PK\x03\x04garbage")
    for command in (["evaluate", "--model", str(broken)], ["predict", "--model", str(broken), str(broken)]):
        code, _, err = run(capsys, *command)
        assert code == 2 and "broken.npz" in err and err.count("\n") == 1


def test_unknown_model_name_exits_2(capsys):
    code, _, err = run(capsys, "evaluate", "--model", "../../etc/passwd")
    assert code == 2 and err.count("\n") == 1


def test_evaluate_on_a_csv(capsys, toy_csv):
    code, out, _ = run(capsys, "evaluate", "--model", "default", "--data", str(toy_csv), "--json")
    assert code == 0
    report = json.loads(out)
    assert len(report["per_class_accuracy"]) == 10
    assert np.array(report["confusion_matrix"]).sum() == 400


def test_predict_reads_any_image_and_reports_bad_ones(capsys, tmp_path):
    folder = tmp_path / "images"
    folder.mkdir()
    Image.fromarray(draw_digit(1)).save(folder / "one.png")
    # dark ink on white, RGB, a different size, JPEG
    seven = 255 - draw_digit(7, size=280)[..., :3]
    Image.fromarray(seven).resize((100, 100)).save(folder / "seven.jpg")
    Image.new("L", (50, 50), 0).save(folder / "empty.png")
    (folder / "junk.png").write_bytes(b"not an image")
    code, out, _ = run(capsys, "predict", "--model", "default", "--json", str(folder))
    assert code == 0
    results = {Path(r["file"]).name: r for r in map(json.loads, out.splitlines())}
    assert results["one.png"]["digit"] == 1
    assert results["seven.jpg"]["digit"] == 7
    assert len(results["one.png"]["probabilities"]) == 10
    assert "error" in results["empty.png"] and "error" in results["junk.png"]
    assert results["one.png"]["looks_like_a_digit"] is True and results["seven.jpg"]["looks_like_a_digit"] is True


def test_predict_says_when_an_image_is_not_a_digit(capsys, tmp_path):
    from scripts.not_digits import DOODLES, jittered
    from scripts.render_strokes import render_strokes
    smiley = render_strokes(jittered(DOODLES["smiley"](None), np.random.default_rng(0), wobble=0.01, tilt=0),
                            line_width=18, height=200, offset=(40, 40), background="black")
    Image.fromarray(smiley).save(tmp_path / "smiley.png")
    Image.fromarray(draw_digit(4)).save(tmp_path / "four.png")
    code, out, _ = run(capsys, "predict", "--model", "default", str(tmp_path))
    assert code == 0
    lines = dict(line.split(": ", 1) for line in out.splitlines())
    assert lines[str(tmp_path / "smiley.png")].endswith("but it does not look like a digit")
    assert lines[str(tmp_path / "four.png")].startswith("4 (") and "not look" not in lines[str(tmp_path / "four.png")]


def test_python_dash_m_entry_point(tmp_path):
    result = subprocess.run([sys.executable, "-m", "network", "evaluate", "--model", str(tmp_path / "none.npz")],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().startswith("error:") and "Traceback" not in result.stderr
