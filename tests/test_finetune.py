"""Fine-tuning on people's drawings: the split by writer, the run, the CLI."""

import json
import shutil

import numpy as np
import pytest

from network.cli import main
from network.digits import Digits, make_mnist
from network.drawing_sets import MIN_HELD_OUT, DrawingSet, from_csv, from_store, split_by_writer
from network.errors import DataError
from network.finetune import FinetuneRecipe, Finetuning
from network.model import Network, architecture
from network.modelfile import SHIPPED_DIR
from network.store import open_store
from network.training import TrainConfig, train_to_end
from tests.toys import toy_images

TINY = FinetuneRecipe(steps=6, batch_size=32, dev_size=50, eval_every=3)


def drawing_set(n=120, writers=12):
    """Toy drawings of the toy MNIST's classes (same prototypes, more noise)."""
    images, labels = toy_images(n, seed=1, noise=60)
    return DrawingSet(Digits(images, labels, "toy drawings"), np.array([f"w{i % writers}" for i in range(n)]))


@pytest.fixture(scope="module")
def toy_mnist():
    images, labels = toy_images(800, seed=1)
    return make_mnist(images[:600], labels[:600], images[600:], labels[600:], "toy MNIST")


@pytest.fixture(scope="module")
def trained(toy_mnist):
    """A small network that reads the toy digits well."""
    net = Network(architecture(hidden=(16,)), seed=0)
    train_to_end(net, TrainConfig(hidden=(16,), epochs=3, batch_size=32), toy_mnist.train.images,
                 toy_mnist.train.labels)
    return net


def copy_of(net):
    twin = Network(net.arch)
    twin.params[...] = net.params
    return twin


def test_the_split_keeps_every_writer_on_one_side():
    drawings = drawing_set()
    split = split_by_writer(drawings, held_out_share=0.3, seed=4)
    assert not set(split.train.writers) & set(split.held_out.writers)
    assert len(split.train) + len(split.held_out) == len(drawings)
    assert 0.3 * len(drawings) <= len(split.held_out) < 0.5 * len(drawings)
    assert split.how.startswith("by writer")


def test_one_writer_is_split_by_time_and_says_so():
    split = split_by_writer(drawing_set(writers=1), held_out_share=0.25)
    assert len(split.held_out) == 30 and "one writer" in split.how
    assert split.held_out.digits.images[0].tobytes() == drawing_set(writers=1).digits.images[90].tobytes()


def test_fine_tuning_starts_from_the_given_weights_and_moves_them_a_little(trained, toy_mnist):
    net = copy_of(trained)
    run = Finetuning(net, drawing_set(), toy_mnist, TINY)
    held = run.split.held_out.digits
    assert run.before.held_out == trained.accuracy(held.images, held.labels) > 0.9
    assert run.before.mnist_test == trained.accuracy(toy_mnist.test.images, toy_mnist.test.labels)
    progress = list(run.steps())
    assert [p.step for p in progress] == list(range(1, 7))
    assert [p.step for p in progress if p.dev_accuracy is not None] == [3, 6]
    assert all(p.held_out_accuracy is not None for p in progress if p.dev_accuracy is not None)
    change = np.linalg.norm(net.params - trained.params) / np.linalg.norm(trained.params)
    assert 0 < change < 0.05
    report = run.report()
    assert report["held_out_count"] == len(held) >= MIN_HELD_OUT
    assert report["held_out_before"] == run.before.held_out and report["held_out_after"] == run.after.held_out


def test_batches_mix_mnist_and_oversampled_drawings(trained, toy_mnist):
    run = Finetuning(copy_of(trained), drawing_set(), toy_mnist, TINY)
    assert len(run.train) == TINY.steps * TINY.batch_size
    drawings = run.split.train.digits.images.reshape(len(run.split.train), -1)
    from_drawings = (run.train.images.reshape(len(run.train), 1, -1) == drawings[None]).all(axis=2).any(axis=1)
    assert from_drawings.sum() == round(TINY.drawing_share * len(run.train))  # each drawing several times
    dev = run.dev.images.reshape(len(run.dev), 1, -1)
    assert not (run.train.images.reshape(1, len(run.train), -1) == dev).all(axis=2).any()  # never the dev digits
    run.run()
    assert run.train is None   # a finished run lets go of its training images


def test_no_gain_is_claimed_from_too_few_held_out_drawings(trained, toy_mnist):
    run = Finetuning(copy_of(trained), drawing_set(n=40, writers=8), toy_mnist, TINY)
    assert len(run.split.held_out) < MIN_HELD_OUT
    report = run.run()
    assert report["held_out_before"] is None and report["held_out_after"] is None
    assert report["held_out_needed"] == MIN_HELD_OUT - len(run.split.held_out)
    assert f"{report['held_out_needed']} more drawings by other writers" in run.verdict()


def test_too_few_drawings_to_learn_from_are_refused(trained, toy_mnist):
    with pytest.raises(DataError, match="at least 10"):
        Finetuning(copy_of(trained), drawing_set(n=12, writers=2), toy_mnist, TINY)


def write_csv(path, drawings, writer_column=True):
    images = drawings.digits.images.reshape(len(drawings), -1)
    header = "label," + ",".join(f"pixel{i}" for i in range(784)) + (",writer,source" if writer_column else "")
    lines = [header] + [",".join(map(str, [label, *row])) + (f",{writer},prompt" if writer_column else "")
                        for label, row, writer in zip(drawings.digits.labels, images, drawings.writers)]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_a_csv_gives_its_writers_or_one_writer_per_row(tmp_path):
    drawings = drawing_set(n=30, writers=3)
    found = from_csv(write_csv(tmp_path / "with.csv", drawings))
    assert list(found.writers) == list(drawings.writers)
    assert np.array_equal(found.digits.images, drawings.digits.images)
    plain = from_csv(write_csv(tmp_path / "plain.csv", drawings, writer_column=False))
    assert len(set(plain.writers)) == 30
    (tmp_path / "bad.csv").write_text("label,pixel0\n1,2\n")
    with pytest.raises(DataError, match="bad.csv"):
        from_csv(tmp_path / "bad.csv")


def test_the_store_gives_corrections_a_class_or_everything(data_dir):
    store = open_store()
    with pytest.raises(DataError, match="no drawings"):
        from_store(store, "mine")
    code, _ = store.open_class()
    pixels = np.full((28, 28), 0.5, np.float32)
    for i in range(6):
        store.add_drawing(pixels, i, "correction", student=f"session {i % 2}")
        store.join(code, f"student {i % 3}")
        store.add_drawing(pixels, i, "prompt", class_code=code, student=f"student {i % 3}")
    mine, group, every = from_store(store, "mine"), from_store(store, f"class:{code.lower()}"), from_store(store, "all")
    assert (len(mine), len(group), len(every)) == (6, 6, 12)
    assert len(set(mine.writers)) == 2 and len(set(group.writers)) == 3 and len(set(every.writers)) == 5
    assert mine.digits.images.dtype == np.uint8 and mine.digits.images.max() == 128
    assert mine.counts() == [1, 1, 1, 1, 1, 1, 0, 0, 0, 0]
    with pytest.raises(DataError, match="unknown drawings"):
        from_store(store, "everything")


# -- the command line --------------------------------------------------------

def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def seed_model(tmp_path):
    path = tmp_path / "seed.npz"
    shutil.copy(SHIPPED_DIR / "seed.npz", path)
    return path


def test_cli_fine_tunes_a_copy_and_ends_with_the_figures(capsys, tmp_path, data_dir, mnist_cache, seed_model):
    if mnist_cache is None:
        pytest.skip("MNIST cannot be obtained here")
    before = seed_model.read_bytes()
    out = tmp_path / "tuned.npz"
    code, stdout, err = run(capsys, "finetune", "--model", str(seed_model), "--drawings",
                            str(write_csv(tmp_path / "d.csv", drawing_set())), "--steps", "30", "--out", str(out),
                            "--json")
    assert code == 0, err
    lines = [json.loads(line) for line in stdout.splitlines()]
    done = lines[-1]
    assert {"done", "held_out_before", "held_out_after", "held_out_count", "mnist_test_before",
            "mnist_test_after", "model"} <= set(done)
    assert done["done"] is True and done["model"] == str(out) and done["held_out_count"] >= MIN_HELD_OUT
    assert 0.8 < done["mnist_test_before"] < 0.9   # the seed recipe's 86%
    assert all("held_out_accuracy" in line and "dev_accuracy" in line for line in lines[:-1])
    assert seed_model.read_bytes() == before
    from network.modelfile import load_model
    tuned = load_model(out)
    assert tuned.metadata["finetune"]["from"] == str(seed_model)
    assert tuned.metadata["metrics"]["test_accuracy"] == done["mnist_test_after"]


@pytest.mark.parametrize("arguments, message", [
    (["--drawings", "nothing.csv"], "no such file"),
    (["--drawings", "class:ZZZZ"], "no class ZZZZ"),
    (["--drawings", "mine"], "no drawings"),
    (["--drawings", "all", "--minutes", "0"], "--minutes"),
    (["--drawings", "all", "--out", str(SHIPPED_DIR / "default.npz")], "never writes over"),
    (["--drawings", "all", "--model", "nope"], "no such model"),
])
def test_cli_bad_input_exits_2_with_one_line(capsys, data_dir, arguments, message):
    code, stdout, err = run(capsys, "finetune", *arguments)
    assert code == 2 and message in err and len(err.strip().splitlines()) == 1
