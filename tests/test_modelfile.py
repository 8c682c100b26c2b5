"""Model files: round trip, and every way a file can be bad."""

import io
import json
import zipfile

import numpy as np
import pytest

from network.modelfile import ModelFileError, list_models, load_model, model_path, save_model, validate_model_name
from network.training import PRESETS, new_network


@pytest.fixture
def saved(tmp_path):
    net = new_network(PRESETS["default"])
    path = save_model(net, tmp_path / "model.npz", {"metrics": {"test_accuracy": 0.5}})
    return net, path


def rewrite(path, change):
    """Copy the model's arrays, let `change` edit the dict, write them back."""
    with np.load(path) as stored:
        arrays = {k: stored[k] for k in stored.files}
    change(arrays)
    np.savez(path, **arrays)


def test_round_trip_keeps_weights_and_metadata(saved):
    net, path = saved
    loaded = load_model(path)
    np.testing.assert_array_equal(loaded.params, net.params)
    assert loaded.describe() == net.describe()
    assert loaded.metadata["metrics"]["test_accuracy"] == 0.5
    assert loaded.metadata["format_version"] == 1 and "created" in loaded.metadata
    images = np.random.default_rng(0).random((3, 28, 28), dtype=np.float32)
    np.testing.assert_array_equal(loaded.predict_proba(images), net.predict_proba(images))


def test_loads_from_uploaded_bytes(saved):
    net, path = saved
    np.testing.assert_array_equal(load_model(path.read_bytes()).params, net.params)


def test_save_is_atomic_and_refuses_to_overwrite_when_asked(saved, tmp_path):
    net, path = saved
    with pytest.raises(FileExistsError):
        save_model(net, path, overwrite=False)
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary files left


def metadata_of(arrays):
    return json.loads(str(arrays["metadata"]))


@pytest.mark.parametrize("damage, message", [
    (lambda a: a.pop("0.W"), "do not match"),
    (lambda a: a.update({"0.W": a["0.W"].astype(np.float64)}), "expected float32"),
    (lambda a: a.update({"0.W": a["0.W"][:, :3]}), "expected float32"),
    (lambda a: a.update({"12.W": np.zeros(3, np.float32)}), "do not match"),
    (lambda a: a.update({"0.b": np.full_like(a["0.b"], np.nan)}), "NaN"),
    (lambda a: a.pop("metadata"), "no metadata"),
    (lambda a: a.update(metadata=np.array("{not json")), "not valid JSON"),
    (lambda a: a.update(metadata=np.array(json.dumps({**metadata_of(a), "format_version": 99}))), "version 99"),
    (lambda a: a.update(metadata=np.array(json.dumps({**metadata_of(a), "format": "other"}))), "not a model file"),
    (lambda a: a.update(metadata=np.array(json.dumps({**metadata_of(a), "architecture": {"layers": "x"}}))),
     "bad architecture"),
])
def test_mismatched_files_give_one_clear_error(saved, damage, message):
    _, path = saved
    rewrite(path, damage)
    with pytest.raises(ModelFileError, match=message):
        load_model(path)


def test_truncated_file(saved):
    _, path = saved
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelFileError, match="damaged or truncated"):
        load_model(path)


@pytest.mark.parametrize("content", [b"", b"hello world", b"\x89PNG\r\n\x1a\n" + bytes(100)])
def test_not_a_model_at_all(tmp_path, content):
    path = tmp_path / "junk.npz"
    path.write_bytes(content)
    with pytest.raises(ModelFileError, match="not a model file"):
        load_model(path)


def test_a_pickle_inside_is_never_loaded(tmp_path):
    """An .npz whose metadata is a pickled object (which could run code)."""
    path = tmp_path / "hostile.npz"
    np.savez(path, metadata=np.array([{"evil": True}], dtype=object))
    with pytest.raises(ModelFileError, match="never unpickles"):
        load_model(path)


def test_a_zip_bomb_sized_file_is_refused(tmp_path, monkeypatch):
    import network.modelfile as modelfile
    monkeypatch.setattr(modelfile, "MAX_FILE_BYTES", 100)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as z:
        z.writestr("a.npy", bytes(1000))
    with pytest.raises(ModelFileError, match="too large"):
        load_model(buffer.getvalue())


def test_missing_file():
    with pytest.raises(ModelFileError, match="no such model file"):
        load_model("/nonexistent/model.npz")


@pytest.mark.parametrize("name", ["../evil", "a/b", "a\\b", "", " ", "x" * 65, ".hidden", "..", "naïve\n"])
def test_bad_model_names_are_refused(name):
    with pytest.raises(ModelFileError):
        validate_model_name(name)


def test_good_names_map_into_the_users_models_folder(data_dir):
    assert validate_model_name("  My model_2.b  ") == "My model_2.b"
    assert model_path("my-run") == data_dir / "models" / "my-run.npz"
    assert model_path("default").name == "default.npz" and model_path("default").parent.name == "models"


def test_list_models_shows_shipped_then_saved(data_dir):
    save_model(new_network(PRESETS["seed"]), model_path("class demo"))
    names = list(list_models())
    assert names[:2] == ["default", "seed"] and names[-1] == "class demo"


def test_input_blur_comes_from_the_models_recipe(saved):
    from network.modelfile import input_blur
    net, path = saved
    assert input_blur(load_model(path)) == 0.0
    save_model(net, path, {"config": {"input_blur": 0.7}})
    assert input_blur(load_model(path)) == 0.7
    save_model(net, path, {"config": {"input_blur": "lots"}})
    assert input_blur(load_model(path)) == 0.0


def test_a_shipped_models_name_cannot_be_taken():
    for name in ("default", "seed"):
        with pytest.raises(ModelFileError, match="shipped"):
            validate_model_name(name)
