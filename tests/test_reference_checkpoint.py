"""The original project's checkpoint-best.tar files: read without running their code, mapped onto this generator."""

from __future__ import annotations

import os
import pickle
import sys
import types
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

import deepnag
import main
from deepnag import checkpoint
from deepnag.data import dollar_gds, jk2017
from deepnag.generate.sampling import load_generator


class DeepNAGNet(nn.Module):
    """The reference generator, as its models/DeepNAG.py defines it (layer names included)."""

    def __init__(self, latent_dim: int, output_dim: int, num_classes: int) -> None:
        super().__init__()
        self.gru1 = nn.GRU(latent_dim + num_classes, 128, 1, batch_first=True)
        self.gru2 = nn.GRU(128, 256, 1, batch_first=True)
        self.gru3 = nn.GRU(256, 512, 1, batch_first=True)
        self.fc = nn.Sequential(nn.Linear(512, output_dim), nn.Tanh())

    def forward(self, z: torch.Tensor, labels_one_hot: torch.Tensor) -> torch.Tensor:
        output, _ = self.gru1(torch.cat([z, labels_one_hot], dim=2))
        output, _ = self.gru2(output)
        output, _ = self.gru3(output)
        return self.fc(output)


def _reference_module(monkeypatch) -> types.ModuleType:
    """`dataloader.utils` as the reference has it, only while the file is written (loading must not need it)."""
    utils = types.ModuleType("dataloader.utils")

    class MinMaxNormalizer:
        def __init__(self) -> None:
            self.min = None
            self.max = None
            self.factors_computed = False

    MinMaxNormalizer.__module__ = "dataloader.utils"
    MinMaxNormalizer.__qualname__ = "MinMaxNormalizer"
    utils.MinMaxNormalizer = MinMaxNormalizer
    package = types.ModuleType("dataloader")
    package.utils = utils
    monkeypatch.setitem(sys.modules, "dataloader", package)
    monkeypatch.setitem(sys.modules, "dataloader.utils", utils)
    return utils


def _write_reference(path: Path, monkeypatch, *, data_parallel: bool = False, extra: object = None,
                     model: str = "DeepNAG", normalizer_as: str = "object", reader: types.ModuleType = dollar_gds,
                     latent_dim: int = 32, edit: Callable[[dict], None] | None = None,
                     with_optimizer: bool = True) -> DeepNAGNet:
    """A reference checkpoint of `reader`'s data set; its normaliser as the reference's object, a plain dict, an
    object without min, or absent; `edit` changes the weights (or the normaliser, under "normalizer") before saving."""
    torch.manual_seed(0)
    net = DeepNAGNet(latent_dim, reader.NUM_FEATURES, len(reader.CLASSES))
    utils = _reference_module(monkeypatch)
    normalizer = utils.MinMaxNormalizer()
    if reader.NUM_FEATURES == 2:
        normalizer.min, normalizer.max = np.array([[10.0, 20.0]]), np.array([[300.0, 250.0]])
    else:
        normalizer.min, normalizer.max = -np.ones((1, reader.NUM_FEATURES)), np.ones((1, reader.NUM_FEATURES))
    normalizer.factors_computed = True
    weights = net.state_dict()
    if data_parallel:
        weights = {f"module.{k}": v for k, v in weights.items()}
    if edit is not None:
        weights["normalizer"] = normalizer
        edit(weights)
        normalizer = weights.pop("normalizer")
    if normalizer_as == "dict":
        normalizer = {"min": torch.tensor(normalizer.min), "max": torch.tensor(normalizer.max)}  # plain data
    elif normalizer_as == "without min":
        del normalizer.min
    elif normalizer_as == "absent":
        normalizer = None
    state = {"model": model, "generator": weights, "normalizer": normalizer}
    if with_optimizer:
        state["optimizer"] = torch.optim.Adam(net.parameters()).state_dict()
    if extra is not None:
        state["extra"] = extra
    torch.save(state, path)
    monkeypatch.delitem(sys.modules, "dataloader.utils")
    monkeypatch.delitem(sys.modules, "dataloader")
    return net


@pytest.mark.parametrize("data_parallel", [False, True], ids=["plain", "DataParallel"])
def test_the_weights_map_onto_this_generator_exactly(tmp_path, monkeypatch, data_parallel):
    path = tmp_path / "checkpoint-best.tar"
    net = _write_reference(path, monkeypatch, data_parallel=data_parallel)
    state = checkpoint.load(path, dataset="dollar-gds")
    assert state["kind"] == "generator" and state["model"] == "DeepNAG" and state["class_names"] == list(dollar_gds.CLASSES)
    generator = load_generator(state, str(path))
    z = torch.randn(4, 64, 32)
    labels = torch.tensor([0, 5, 12, 15])
    one_hot = torch.nn.functional.one_hot(labels, len(dollar_gds.CLASSES)).float()[:, None].expand(-1, 64, -1)
    with torch.no_grad():
        torch.testing.assert_close(generator(z, labels), net(z, one_hot))
    torch.testing.assert_close(state["normalizer"]["minimum"], torch.tensor([[10.0, 20.0]], dtype=torch.float64))


@pytest.mark.parametrize("with_optimizer", [True, False], ids=["with its optimiser", "model, generator and normaliser only"])
def test_a_normaliser_saved_as_a_dict_reads_the_same(tmp_path, monkeypatch, with_optimizer):
    _write_reference(tmp_path / "object.tar", monkeypatch)
    _write_reference(tmp_path / "dict.tar", monkeypatch, normalizer_as="dict", with_optimizer=with_optimizer)
    as_object, as_dict = (checkpoint.load(tmp_path / name, dataset="dollar-gds") for name in ("object.tar", "dict.tar"))
    for key in ("minimum", "maximum"):
        torch.testing.assert_close(as_dict["normalizer"][key], as_object["normalizer"][key])
    torch.testing.assert_close(as_dict["normalizer"]["maximum"], torch.tensor([[300.0, 250.0]], dtype=torch.float64))


@pytest.mark.parametrize("normalizer_as", ["without min", "absent"])
def test_a_reference_checkpoint_without_its_normaliser_is_a_clear_error(tmp_path, monkeypatch, normalizer_as):
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch, normalizer_as=normalizer_as)
    with pytest.raises(checkpoint.CheckpointError, match=r"lacks its model name, generator weights or normaliser; it is "
                                                         r"damaged$"):
        checkpoint.load(path, dataset="dollar-gds")


@pytest.mark.parametrize(("model", "reader", "latent_dim"), [("DeepGAN", dollar_gds, 1), ("DeepNAG", jk2017.KINECT, 16),
                                                          ("DeepNAG", jk2017.LEAP, 8)],
                         ids=["DeepGAN-dollar-gds", "DeepNAG-jk2017-kinect", "DeepNAG-jk2017-leap"])
def test_the_converted_checkpoint_records_the_model_data_set_and_latent_size(tmp_path, monkeypatch, model, reader,
                                                                           latent_dim):
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch, model=model, reader=reader, latent_dim=latent_dim)
    dataset = reader.NAME
    state = checkpoint.load(path, dataset=dataset)
    config = checkpoint.config_of(state)
    assert (state["model"], state["dataset"], config.model, config.dataset, config.latent_dim) == \
        (model, dataset, model, dataset, latent_dim)
    assert (state["format"], state["format_version"]) == (checkpoint.FORMAT, checkpoint.FORMAT_VERSION)
    assert state["display_names"] == list(getattr(reader, "DISPLAY_NAMES", reader.CLASSES))
    assert state["num_features"] == reader.NUM_FEATURES and state["source"] == "original DeepNAG project: checkpoint-best.tar"
    assert state["versions"] == checkpoint.versions() == {"deepnag": deepnag.__version__, "torch": str(torch.__version__)}
    assert (state["epoch"], state["best_loss"]) == (0, float("inf"))  # a run continuing it starts its count afresh


def _drop(key: str) -> Callable[[dict], None]:
    return lambda weights: weights.pop(key)


def _set(key: str, value: object) -> Callable[[dict], None]:
    return lambda weights: weights.__setitem__(key, value)


def _narrow_maximum(weights: dict) -> None:
    weights["normalizer"].max = np.ones((1, 3))


@pytest.mark.parametrize(("model", "edit", "message"), [
    ("Other", None, "looks like a checkpoint of the original DeepNAG project but lacks its model name, generator weights "
                    "or normaliser; it is damaged$"),
    ("DeepNAG", _set("extra.weight", torch.zeros(2)),
     "generator weight 'extra.weight' is not one of the reference generator's; it is not a reference DeepNAG / DeepGAN "
     "checkpoint$"),
    ("DeepNAG", _set("gru1.weight_ih_l0", [1.0, 2.0]), "generator weight 'gru1.weight_ih_l0' is not one of the reference "
                                                        "generator's"),
    ("DeepNAG", _drop("fc.0.weight"), ": the reference checkpoint's generator or normaliser is incomplete$"),
    ("DeepNAG", _narrow_maximum, r"does not fit dollar-gds \(16 classes of 2 features; its generator writes 2\); give "
                                 "the --dataset it was trained on$"),
], ids=["unknown model", "unknown layer", "a weight that is no tensor", "no output layer", "normaliser of 3 features"])
def test_a_damaged_reference_checkpoint_is_a_one_line_error(tmp_path, monkeypatch, model, edit, message):
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch, model=model, edit=edit)
    with pytest.raises(checkpoint.CheckpointError, match=message) as error:
        checkpoint.load(path, dataset="dollar-gds")
    assert str(error.value).startswith(str(path)) and "\n" not in str(error.value)


def test_generate_and_the_api_take_a_reference_checkpoint(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch)
    out = tmp_path / "synth"
    assert main.main(["--model=DeepNAG", "--dataset=dollar-gds", f"--generate={path}", f"--output={out}",
                      "--num-per-class=2"]) == 0
    with np.load(tmp_path / "synth.npz", allow_pickle=False) as archive:
        samples = archive["samples"]
    assert samples.shape == (32, 64, 2)
    assert (samples >= [10, 20]).all() and (samples <= [300, 250]).all()  # tanh output mapped into the data's range
    api = deepnag.load_generator(path, dataset="dollar-gds")
    assert api.sample("star", n=2).shape == (2, 64, 2)


def test_without_a_data_set_it_asks_for_one(tmp_path, monkeypatch, capsys):
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch)
    assert main.main([f"--evaluate={path}"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: {path} is a checkpoint of the original DeepNAG project, which does not record its data set; "
        "give --dataset=dollar-gds, --dataset=jk2017-kinect or --dataset=jk2017-leap")


@pytest.mark.parametrize("dataset", ["folder", "mnist"])
def test_a_data_set_the_reference_never_had_is_refused_the_same_way(tmp_path, monkeypatch, dataset):
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch)
    with pytest.raises(checkpoint.CheckpointError, match="does not record its data set; give --dataset=dollar-gds, --dataset=jk2017-kinect or --dataset=jk2017-leap$"):
        checkpoint.load(path, dataset=dataset)


def test_the_wrong_data_set_is_a_clear_error(tmp_path, monkeypatch):
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch)
    with pytest.raises(checkpoint.CheckpointError, match="does not fit jk2017-kinect"):
        checkpoint.load(path, dataset="jk2017-kinect")


class _RunsCode:
    def __reduce__(self):
        return (os.system, (f"touch {Path(os.environ['DEEPNAG_TEST_MARKER'])}",))


def test_a_malicious_reference_checkpoint_is_refused_without_running_it(tmp_path, monkeypatch):
    marker = tmp_path / "it-ran"
    monkeypatch.setenv("DEEPNAG_TEST_MARKER", str(marker))
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch, extra=_RunsCode())
    with pytest.raises(checkpoint.CheckpointError, match=r"holds a pickled (posix|os)\.system, which is refused"):
        checkpoint.load(path, dataset="dollar-gds")
    assert not marker.exists()


@pytest.mark.skipif(not hasattr(np, "_core"), reason="NumPy 1 has only numpy.core")
def test_reading_one_under_numpy_2_raises_no_deprecation_warning(tmp_path, monkeypatch):
    """NumPy 2 warns on every use of numpy.core; the allow-list takes numpy._core's function where there is one."""
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch)
    with warnings.catch_warnings():
        warnings.simplefilter("error", DeprecationWarning)
        assert checkpoint.load(path, dataset="dollar-gds")["num_features"] == 2


def test_every_file_is_read_weights_only_whatever_torch_defaults_to(tmp_path, monkeypatch):
    """torch < 2.6 unpickles anything unless told weights_only=True: each reading of either kind of file says so."""
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch)
    mine = checkpoint.save(checkpoint.generator_only(checkpoint.load(path, dataset="dollar-gds")), tmp_path / "g.pt")
    calls, real = [], torch.load

    def spy(*args, **kwargs):
        calls.append(kwargs.get("weights_only"))
        return real(*args, **kwargs)

    monkeypatch.setattr(torch, "load", spy)
    checkpoint.load(path, dataset="dollar-gds")
    checkpoint.load(mine)
    assert calls == [True, True, True]  # the reference file is read twice: to recognise it, then allow-listed


def test_a_float32_normaliser_is_read_too(tmp_path, monkeypatch):
    def to_float32(weights: dict) -> None:
        norm = weights["normalizer"]
        norm.min, norm.max = norm.min.astype(np.float32), norm.max.astype(np.float32)

    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch, edit=to_float32)
    state = checkpoint.load(path, dataset="dollar-gds")
    torch.testing.assert_close(state["normalizer"]["maximum"], torch.tensor([[300.0, 250.0]], dtype=torch.float64))


@pytest.mark.parametrize("on", ["meta", "cpu"])
def test_the_map_location_is_honoured(tmp_path, monkeypatch, on):
    """What lets a GPU machine's file load on a CPU one: every tensor lands where map_location says."""
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch)
    state = checkpoint.load(path, map_location=on, dataset="dollar-gds")
    assert {tensor.device.type for tensor in state["generator"].values()} == {on}
    mine = checkpoint.save(checkpoint.generator_only(checkpoint.load(path, dataset="dollar-gds")), tmp_path / "g.pt")
    assert {t.device.type for t in checkpoint.load(mine, map_location=on)["generator"].values()} == {on}


@pytest.mark.parametrize(("second", "message"), [
    (pickle.UnpicklingError("Unsupported operand 149"), "holds pickled objects, which is refused because loading it "
                                                        "could run code$"),
    (RuntimeError("PytorchStreamReader failed reading file data/0"), " is damaged or truncated; use another checkpoint$"),
], ids=["an unnamed refusal", "damaged tensors"])
def test_a_reference_file_that_fails_its_second_reading_is_a_one_line_error(tmp_path, monkeypatch, second, message):
    """The first reading names the reference's normaliser; what the allow-listed second one can meet, each worded."""
    path = tmp_path / "checkpoint-best.tar"
    _write_reference(path, monkeypatch)
    errors = iter([pickle.UnpicklingError(f"Unsupported global: GLOBAL {checkpoint.REFERENCE_NORMALIZER}"), second])

    def load(*args, **kwargs):
        raise next(errors)

    monkeypatch.setattr(torch, "load", load)
    with pytest.raises(checkpoint.CheckpointError, match=message) as error:
        checkpoint.load(path, dataset="dollar-gds")
    assert str(error.value).startswith(str(path))


def test_a_numpy_1_era_file_is_read_too(tmp_path, monkeypatch):
    """Files written by NumPy 1 name `numpy.core.multiarray._reconstruct`; NumPy 2 writes `numpy._core…`."""
    path = tmp_path / "new.tar"
    _write_reference(path, monkeypatch)
    old = tmp_path / "old.tar"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(old, "w", zipfile.ZIP_STORED) as target:
        for info in source.infolist():
            data = source.read(info)
            if info.filename.endswith("data.pkl"):
                data = data.replace(b"numpy._core.multiarray", b"numpy.core.multiarray")
                assert b"numpy.core.multiarray" in data
            target.writestr(info, data)
    state = checkpoint.load(old, dataset="dollar-gds")
    assert state["num_features"] == 2


@pytest.mark.trains
def test_resume_continues_a_reference_checkpoint_in_a_new_run(tmp_path, monkeypatch, shared_data):
    path = tmp_path / "checkpoint-best.tar"
    net = _write_reference(path, monkeypatch)
    logdir = tmp_path / "logs"
    assert main.main([f"--resume={path}", "--dataset=dollar-gds", "--epochs=1", f"--datapath={shared_data}",
                      f"--logdir={logdir}", "--vis-frequency=0", "--use-tensorboard=0"]) == 0
    (run,) = list(logdir.iterdir())
    final = checkpoint.load(run / "checkpoints" / "checkpoint-final.pt")
    assert final["kind"] == "full" and final["epoch"] == 1 and final["class_names"] == list(dollar_gds.CLASSES)
    # It trained on from the reference's weights: one epoch of Adam at 1e-4 (25 steps) moves them only a little.
    start = net.state_dict()
    moved = max((final["generator"][ours] - start[theirs]).abs().max().item()
                for theirs, ours in [("gru1.weight_ih_l0", "grus.0.weight_ih_l0"), ("fc.0.weight", "head.weight")])
    assert 0 < moved < 0.01
