"""A class's prompts, report and downloads, and `python -m network class`."""

import csv
import io
import time
import zipfile
from collections import Counter

import numpy as np
import pytest
from PIL import Image

from network.classroom import class_report, csv_bytes, parse_duration, prompt, zip_bytes
from network.cli import main
from network.csvfile import load_csv
from network.errors import UserError
from network.store import open_store


def test_prompts_ask_every_digit_three_times_in_thirty_drawings():
    asked = [prompt("student-a", n) for n in range(30)]
    assert Counter(asked) == {digit: 3 for digit in range(10)}
    assert all(sorted(asked[i:i + 10]) == list(range(10)) for i in (0, 10, 20))
    assert asked != [prompt("student-b", n) for n in range(30)]   # students differ
    assert asked == [prompt("student-a", n) for n in range(30)]   # and keep their order


def add(store, code, label, predicted, confidence=0.9, student="s"):
    pixels = np.zeros((28, 28), np.float32)
    pixels[4:24, 10 + label] = 1
    return store.add_drawing(pixels, label, "prompt", predicted=predicted, confidence=confidence,
                             model="Default", canvas=np.zeros((280, 280, 4), np.uint8), class_code=code,
                             student=student)


@pytest.fixture
def a_class(data_dir):
    store = open_store()
    code, token = store.open_class()
    return store, code, token


def test_the_report_counts_per_digit_and_finds_the_confident_mistakes(a_class):
    store, code, _ = a_class
    right = add(store, code, 1, 1)
    sure = add(store, code, 1, 7, confidence=0.99)
    unsure = add(store, code, 4, 9, confidence=0.51)
    report = class_report(store.drawings(code))
    assert report.total == 3 and report.right == 1 and report.accuracy == pytest.approx(1 / 3)
    assert report.per_digit[1] == (1, 2, 1) and report.per_digit[4] == (4, 1, 0)
    assert report.confusion[1, 7] == 1 and report.confusion.sum() == 3
    assert report.cells[(1, 7)] == [sure] and report.cells[(1, 1)] == [right]
    assert [d.id for d in report.fooled] == [sure, unsure]


def test_the_csv_is_kaggle_format_and_reads_back(a_class, tmp_path):
    store, code, _ = a_class
    for i in range(12):
        add(store, code, i % 10, i % 10)
    path = tmp_path / "class.csv"
    path.write_bytes(csv_bytes(store.drawings(code)))
    digits = load_csv(path)
    assert len(digits) == 12 and digits.labels.tolist() == [i % 10 for i in range(12)]
    assert digits.images[3, 4:24, 13].tolist() == [255] * 20
    detailed = list(csv.reader(io.StringIO(csv_bytes(store.drawings(code), details=True).decode())))
    assert detailed[0][785:] == ["writer", "source", "predicted", "confidence"]
    assert detailed[1][785:] == ["s", "prompt", "0", "0.9000"]


def test_the_zip_holds_pngs_and_their_labels(a_class):
    store, code, _ = a_class
    ids = [add(store, code, 3, 5), add(store, code, 8, 8)]
    with zipfile.ZipFile(io.BytesIO(zip_bytes(store.drawings(code), store.canvas_png))) as archive:
        rows = list(csv.DictReader(io.StringIO(archive.read("labels.csv").decode())))
        assert [r["label"] for r in rows] == ["3", "8"]
        for row in rows:
            with Image.open(io.BytesIO(archive.read(row["file"]))) as small:
                assert small.size == (28, 28)
            with Image.open(io.BytesIO(archive.read(row["canvas"]))) as canvas:
                assert canvas.size == (280, 280)
    assert len(ids) == 2


def test_cli_exports_a_class_that_the_cli_reads_back(a_class, tmp_path, capsys):
    store, code, _ = a_class
    for i in range(10):
        add(store, code, i, i)
    out = tmp_path / "class.csv"
    assert main(["class", "export", code.lower(), "--out", str(out)]) == 0
    assert "10 drawings" in capsys.readouterr().err
    assert load_csv(out).labels.tolist() == list(range(10))
    assert main(["evaluate", "--model", "default", "--data", str(out), "--json"]) == 0
    assert '"accuracy"' in capsys.readouterr().out


def test_cli_export_of_an_unknown_class_exits_2_with_one_line(data_dir, tmp_path, capsys):
    assert main(["class", "export", "ZZZZ", "--out", str(tmp_path / "x.csv")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "no class ZZZZ" in err
    assert not (tmp_path / "x.csv").exists()


def test_cli_purges_idle_classes(a_class, capsys):
    store, code, _ = a_class
    old, _ = store.open_class(now=time.time() - 40 * 86400)
    assert main(["class", "purge", "--older-than", "30d", "--json"]) == 0
    assert capsys.readouterr().out.strip() == f'{{"purged": ["{old}"]}}'
    assert store.find_class(code)


def test_durations():
    assert parse_duration("30d") == 30 * 86400 and parse_duration("90m") == 5400
    for bad in ["30", "d", "-3d", "3w", ""]:
        with pytest.raises(UserError):
            parse_duration(bad)


def test_models_saved_in_a_class_never_collide_and_go_with_the_class(a_class, capsys):
    from network.classmodels import class_model_path, delete_class_model, save_class_model
    from network.modelfile import list_models, load_model
    from network.training import PRESETS, new_network
    store, code, token = a_class
    net = new_network(PRESETS["fast"])
    metadata = {"metrics": {"test_accuracy": 0.9}}
    ann = save_class_model(store, net, metadata, code, "ann", "my model", "fast")
    bob = save_class_model(store, net, {}, code, "bob", "my model", "fast")
    assert ann != bob
    models = {m.id: m for m in store.class_models(code)}
    assert models[ann].name == models[bob].name == "my model" and models[ann].accuracy == 0.9
    assert load_model(class_model_path(code, ann)).n_params == net.n_params
    assert "my model" not in list_models()   # not in everyone's picker
    assert not delete_class_model(store, code, ann, student="bob")
    assert delete_class_model(store, code, ann, student="ann")
    assert not class_model_path(code, ann).exists() and class_model_path(code, bob).exists()
    with pytest.raises(ValueError):
        class_model_path(code, "../../etc/passwd")
    assert main(["class", "purge", "--older-than", "0s"]) == 0
    capsys.readouterr()
    assert not class_model_path(code, bob).parent.exists()
