"""The checkpoint layout: built, saved, loaded and reduced in one module."""

from __future__ import annotations

import collections
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from deepnag import checkpoint
from deepnag.config import Config


def _full(**overrides) -> dict:
    values = dict(class_names=["a", "b"], display_names=["A", "B"], normalizer_minimum=np.zeros((1, 2)),
                  normalizer_maximum=np.ones((1, 2)), num_features=2, seq_len=16, epoch=5, best_loss=0.25,
                  training_subjects=["s02", "s03"],
                  networks={"generator": {"w": torch.ones(3)}, "critic": {"v": torch.zeros(2)}},
                  optimizers={"generator": {"state": {}}}, optimisation={"schedules": {}, "average_updates": 0}, rng={"latent": torch.zeros(4, dtype=torch.uint8)})
    values.update(overrides)
    return checkpoint.full(Config(model="DeepGAN", gamma=0.2), **values)


def test_a_full_checkpoint_round_trips_through_a_file(tmp_path):
    path = checkpoint.save(_full(best_quality=0.75), tmp_path / "a new run" / "checkpoints" / "checkpoint-last.pt")
    state = checkpoint.load(path)
    # What a resumed run continues from: the best TSTR, the schedules, the noise streams.
    assert state["best_quality"] == 0.75 and state["optimisation"] == {"schedules": {}, "average_updates": 0}
    assert state["optimizers"] == {"generator": {"state": {}}} and torch.equal(state["rng"]["latent"], torch.zeros(4, dtype=torch.uint8))
    assert set(checkpoint.REQUIRED) <= set(state)
    assert state["kind"] == "full" and state["model"] == "DeepGAN" and state["epoch"] == 5 and state["best_loss"] == 0.25
    assert state["format"] == checkpoint.FORMAT and state["format_version"] == checkpoint.FORMAT_VERSION
    torch.testing.assert_close(state["critic"]["v"], torch.zeros(2))
    assert state["normalizer"]["maximum"].dtype == torch.float64
    assert checkpoint.config_of(state).gamma == 0.2
    assert state["versions"]["torch"] == str(torch.__version__)
    assert checkpoint.training_subjects(state) == ("s02", "s03")
    assert checkpoint.training_subjects(checkpoint.generator_only(state)) == ("s02", "s03")


def test_a_checkpoint_that_does_not_record_its_subjects_says_so():
    state = _full()
    del state["training_subjects"]
    assert checkpoint.training_subjects(state) is None
    assert checkpoint.training_subjects({**state, "training_subjects": [1, 2]}) is None


def test_generator_and_networks_only_drop_what_they_should():
    state = _full(networks={"generator": {"w": torch.ones(3)}, checkpoint.TRAINING_GENERATOR: {"w": torch.zeros(3)},
                            "critic": {"v": torch.zeros(2)}})
    shared = checkpoint.generator_only(state)
    assert shared["kind"] == "generator"
    assert not {"optimizers", "optimisation", "critic", "rng", checkpoint.TRAINING_GENERATOR} & set(shared)
    torch.testing.assert_close(shared["generator"]["w"], torch.ones(3))  # what sampling uses: the average
    networks = checkpoint.networks_only(state)
    assert networks["kind"] == "networks" and "critic" in networks and checkpoint.TRAINING_GENERATOR in networks
    assert not {"optimizers", "optimisation", "rng"} & set(networks)
    assert state["kind"] == "full" and "optimizers" in state  # the original is left as it was


@pytest.mark.parametrize("missing", ["generator", "normalizer", "class_names"])
def test_an_incomplete_checkpoint_names_what_it_lacks(tmp_path, missing):
    state = _full()
    del state[missing]
    path = checkpoint.save(state, tmp_path / "partial.pt")
    with pytest.raises(checkpoint.CheckpointError, match=f"lacks {missing}; it is incomplete"):
        checkpoint.load(path)


def test_a_newer_format_asks_for_an_upgrade(tmp_path):
    path = checkpoint.save({**_full(), "format_version": checkpoint.FORMAT_VERSION + 1}, tmp_path / "new.pt")
    with pytest.raises(checkpoint.CheckpointError, match="written by a newer DeepNAG"):
        checkpoint.load(path)


# Files that are not checkpoints of this project: each a one-line CheckpointError naming the file.

def _assert_refused(path, what: str = "") -> None:
    with pytest.raises(checkpoint.CheckpointError) as caught:
        checkpoint.load(path)
    message = str(caught.value)
    assert str(path) in message and "\n" not in message and what in message


@pytest.mark.parametrize("content", [
    b"not a checkpoint, just notes\n",                         # torch's unpickler: KeyError: 101
    b"x,y\n1,2\n",                                             # a CSV: IndexError: pop from empty list
    b"",
    b"PK\x03\x04" + b"\x00" * 40,                              # a zip header and nothing more
])
def test_foreign_bytes_are_a_one_line_error(tmp_path, content):
    path = tmp_path / "csv.pt"
    path.write_bytes(content)
    _assert_refused(path, "is damaged, truncated or not a PyTorch checkpoint")


def test_a_truncated_checkpoint_is_a_one_line_error(tmp_path):
    whole = checkpoint.save(_full(), tmp_path / "whole.pt").read_bytes()
    for cut in (len(whole) // 2, len(whole) - 30, 100):
        path = tmp_path / f"cut-{cut}.pt"
        path.write_bytes(whole[:cut])
        _assert_refused(path, "is damaged, truncated or not a PyTorch checkpoint")


@given(st.binary(max_size=2048))
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_bytes_never_escape_as_another_exception(tmp_path, content):
    path = tmp_path / "random.pt"
    path.write_bytes(content)
    _assert_refused(path)


@given(st.dictionaries(st.sampled_from(["data.pkl", "version", "byteorder", "data/0", "x"]), st.binary(max_size=200),
                       min_size=1, max_size=5))
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
def test_random_zip_members_never_escape_as_another_exception(tmp_path, members):
    path = tmp_path / "members.pt"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(f"archive/{name}", data)
    _assert_refused(path)


@pytest.mark.parametrize("obj, what", [
    ([1, 2, 3], "not a DeepNAG checkpoint"),
    ({"format": "something-else"}, "not a DeepNAG checkpoint"),
    (torch.zeros(3), "not a DeepNAG checkpoint"),
])
def test_pytorch_files_of_other_objects_are_refused(tmp_path, obj, what):
    path = tmp_path / "other.pt"
    torch.save(obj, path)
    _assert_refused(path, what)


@pytest.mark.parametrize("key, value", [
    ("class_names", "star"), ("class_names", [1, 2]), ("num_features", "2"), ("generator", [1]),
    ("normalizer", {"minimum": [0.0]}), ("format_version", "1"), ("config", None),
])
def test_valid_files_with_wrong_contents_name_the_damaged_entry(tmp_path, key, value):
    path = checkpoint.save({**_full(), key: value}, tmp_path / "wrong.pt")
    damaged = "format_version ('1')" if key == "format_version" else key
    _assert_refused(path, f"{path} has a damaged {damaged}; it is not a usable checkpoint")


@pytest.mark.parametrize(("drop", "missing"), [(("format_version",), "format_version"),
                                              (("seq_len", "generator"), "seq_len, generator")])
def test_a_checkpoint_without_required_entries_names_them(tmp_path, drop, missing):
    state = {k: v for k, v in _full().items() if k not in drop}
    path = checkpoint.save(state, tmp_path / "short.pt")
    _assert_refused(path, f"{path} lacks {missing}; it is incomplete")


def test_every_damaged_entry_is_named(tmp_path):
    path = checkpoint.save({**_full(), "num_features": "2", "generator": [1]}, tmp_path / "wrong.pt")
    _assert_refused(path, f"{path} has a damaged num_features, generator; it is not a usable checkpoint")


def test_a_pickled_object_is_refused_without_running_it(tmp_path):
    path = tmp_path / "evil.pt"
    torch.save({"format": checkpoint.FORMAT, "payload": collections.OrderedDict()}, path)  # harmless, but not allowed
    torch.save({"format": checkpoint.FORMAT, "payload": _Evil()}, path)
    _assert_refused(path, "refused because loading it could run code")
    assert not (tmp_path / "ran").exists()


class _Evil:
    def __reduce__(self):
        return (open, (str(Path(__file__).parent / "ran"), "w"))


def test_a_missing_shipped_name_points_to_generator_pt(tmp_path):
    folder = tmp_path / "pretrained_models" / "DeepNAG" / "dollar-gds"
    folder.mkdir(parents=True)
    checkpoint.save(checkpoint.generator_only(_full()), folder / "generator.pt")
    _assert_refused(folder / "checkpoint-best.tar", f"this folder holds {folder / 'generator.pt'}")
    _assert_refused(tmp_path / "nowhere" / "x.pt", "give the path of a .pt file")


@pytest.mark.parametrize(("count", "ellipsis"), [(4, ""), (5, ", …"), (6, ", …")])
def test_a_missing_checkpoint_names_at_most_four_of_its_folders_checkpoints(tmp_path, count, ellipsis):
    names = [f"checkpoint-epoch-{i}.pt" for i in range(count)]
    for name in names:
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(checkpoint.CheckpointError) as error:
        checkpoint.load(tmp_path / "nope.pt")
    assert str(error.value).endswith(f"{tmp_path} holds {', '.join(names[:4])}{ellipsis}")


def test_a_missing_checkpoint_names_what_its_folder_holds(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match=r"checkpoint .*nope\.pt does not exist; give the path of a \.pt"):
        checkpoint.load(tmp_path / "nope.pt")
    for name in ("checkpoint-best.pt", "checkpoint-final.pt"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(checkpoint.CheckpointError) as error:
        checkpoint.load(tmp_path / "nope.pt")
    assert str(error.value).endswith(f"{tmp_path} holds checkpoint-best.pt, checkpoint-final.pt")
    (tmp_path / "generator.pt").write_bytes(b"x")
    with pytest.raises(checkpoint.CheckpointError) as error:
        checkpoint.load(tmp_path / "checkpoint-best.tar")
    assert f"this folder holds {tmp_path / 'generator.pt'}, which the shipped models use instead of checkpoint-best.tar" \
        in str(error.value)


def test_the_normaliser_is_kept_in_float64_whatever_it_came_in():
    """float32 or float64 in, float64 out: every reader maps samples back with the same precision."""
    state = checkpoint.normalizer_state(np.array([[1.5, -2.0]], np.float32), torch.tensor([[3.0, 4.25]]))
    assert state["minimum"].dtype == state["maximum"].dtype == torch.float64
    torch.testing.assert_close(state["minimum"], torch.tensor([[1.5, -2.0]], dtype=torch.float64))
    torch.testing.assert_close(state["maximum"], torch.tensor([[3.0, 4.25]], dtype=torch.float64))
