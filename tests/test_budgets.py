"""Hostile model files (issue 14, D1 D2 D6 D7 D8): each is refused with one
clear message, at a bounded cost in memory, before anything is built."""

import io
import json
import tracemalloc
import zipfile

import numpy as np
import pytest

from network.budgets import BudgetError, check_run_budget, json_depth, layer_shapes
from network.model import architecture
from network.modelfile import FORMAT, FORMAT_VERSION, ModelFileError, load_model, save_model
from network.training import PRESETS, new_network

MB = 1024 * 1024


def metadata(arch, **fields):
    return json.dumps({"format": FORMAT, "format_version": FORMAT_VERSION, "architecture": arch, **fields})


def model_bytes(meta_text, arrays=None):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, metadata=np.array(meta_text), **(arrays or {}))
    return buffer.getvalue()


def refusal_and_peak(source, match):
    """Load `source`, expecting a ModelFileError matching `match`; the peak
    bytes Python allocated meanwhile."""
    tracemalloc.start()
    try:
        with pytest.raises(ModelFileError, match=match):
            load_model(source)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_d1_a_huge_declared_network_without_weights_is_refused_before_it_is_built():
    # conv 256x1 -> dense 4096 -> 10: 822 million parameters, 3.3 GB, claimed by a file of a few hundred bytes.
    arch = architecture(hidden=(4096,), conv=[(256, 1)])
    arch["layers"] = [layer for layer in arch["layers"] if layer["type"] != "maxpool"]
    peak = refusal_and_peak(model_bytes(metadata(arch)), "too large for this app: 822,")
    assert peak < 2 * MB


def test_d1_a_network_within_budget_is_still_checked_against_its_arrays_before_building():
    arch = architecture(hidden=(4096, 4096))  # 20 M parameters: over the 12.5 M of a model file
    assert refusal_and_peak(model_bytes(metadata(arch)), "parameters; at most") < 2 * MB
    arch = architecture(hidden=(1024,))
    wrong = {"0.W": np.zeros((3, 3), np.float32)}
    assert refusal_and_peak(model_bytes(metadata(arch), wrong), "do not match") < 2 * MB


def test_d1_too_many_layers():
    arch = architecture(hidden=(10,) * 100)
    with pytest.raises(ModelFileError, match="layers; at most 64"):
        load_model(model_bytes(metadata(arch)))


def zip_bomb(declared_bytes):
    """A model file of a few hundred KB whose one array inflates to `declared_bytes` of zeros."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("metadata.npy", model_bytes_member(np.array(metadata(architecture()))))
        with archive.open("0.W.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(member, {"descr": "<f4", "fortran_order": False,
                                                          "shape": (declared_bytes // 4,)})
            chunk = bytes(MB)
            for _ in range(declared_bytes // MB):
                member.write(chunk)
    return buffer.getvalue()


def model_bytes_member(array):
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=False)
    return buffer.getvalue()


def test_d2_a_zip_bomb_is_refused_from_the_zip_directory_without_inflating():
    bomb = zip_bomb(64 * MB)  # the same way as a 4 GB one, smaller to build
    assert len(bomb) < MB
    peak = refusal_and_peak(bomb, "would inflate to 67 MB")
    assert peak < 4 * MB


def test_d2_an_array_header_that_claims_more_than_its_member_holds():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("metadata.npy", model_bytes_member(np.array(metadata(architecture()))))
        header = io.BytesIO()
        np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (10 ** 9,)})
        archive.writestr("0.W.npy", header.getvalue())
    assert refusal_and_peak(buffer.getvalue(), "claims more than it holds") < 2 * MB


def test_d6_models_are_stored_compressed(tmp_path):
    net = new_network(PRESETS["fast"])
    net.params[...] = 0  # a model of zero weights (D6 uploaded 1.26 MB that became 1.29 GB)
    path = save_model(net, tmp_path / "zeros.npz")
    assert path.stat().st_size < net.params.nbytes / 50
    assert load_model(path).n_params == net.n_params


@pytest.mark.parametrize("fields, match", [
    ({"metrics": {"test_accuracy": "99%"}}, "metrics.test_accuracy must be a number"),
    ({"metrics": {"test_accuracy": 1.5}}, "metrics.test_accuracy must be a number"),
    ({"metrics": "oops"}, "metrics must be a dict"),
    ({"config": [1, 2]}, "config must be a dict"),
    ({"history": {"a": 1}}, "history must be a list"),
])
def test_d7_metadata_the_pages_read_is_type_checked_at_load(fields, match):
    arch = architecture(hidden=())
    weights = {"0.W": np.zeros((10, 784), np.float32), "0.b": np.zeros((10, 1), np.float32)}
    with pytest.raises(ModelFileError, match=match):
        load_model(model_bytes(metadata(arch, **fields), weights))


def test_d8_deeply_nested_metadata_is_refused_without_recursion():
    text = metadata(architecture(), junk="[" * 100_000)  # inside a string: harmless
    assert json_depth(text) == 4
    hostile = '{"format": "digits-network", "x": ' + "[" * 100_000 + "]" * 100_000 + "}"
    assert refusal_and_peak(model_bytes(hostile), "nests deeper than 32") < 8 * MB


def test_d8_metadata_too_large():
    text = metadata(architecture(), junk="x" * 1_100_000)
    with pytest.raises(ModelFileError, match="larger than 1,000,000 characters"):
        load_model(model_bytes(text))


def test_the_shipped_models_fit_every_budget():
    for name in ("default", "seed"):
        assert load_model(f"models/{name}.npz").n_params < 200_000


def test_run_budget_refuses_huge_or_endless_recipes(monkeypatch):
    monkeypatch.delenv("NETWORK_MAX_PARAMS", raising=False)
    monkeypatch.delenv("NETWORK_MAX_RUN_SECONDS", raising=False)
    fast = layer_shapes(PRESETS["fast"].architecture())
    check_run_budget(fast, 2 * 55_000)  # the Fast demo
    check_run_budget(layer_shapes(PRESETS["shipped"].architecture()), 30 * 55_000)  # the shipped model's recipe
    with pytest.raises(BudgetError, match="parameters"):
        check_run_budget(layer_shapes(architecture(hidden=(4096,) * 3)), 55_000)
    with pytest.raises(BudgetError, match="minutes"):
        check_run_budget(fast, 1_000_000 * 55_000)
    monkeypatch.setenv("NETWORK_MAX_RUN_SECONDS", "0")  # the administrator lifts the limit
    check_run_budget(fast, 1_000_000 * 55_000)
    monkeypatch.setenv("NETWORK_MAX_PARAMS", "1000")
    with pytest.raises(BudgetError, match="at most 1,000 per run"):
        check_run_budget(fast, 55_000)
