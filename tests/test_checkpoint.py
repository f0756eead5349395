"""The checkpoint layout: built, saved, loaded and reduced in one module."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from deepnag import checkpoint
from deepnag.config import Config


def _full(**overrides) -> dict:
    values = dict(class_names=["a", "b"], display_names=["A", "B"], normalizer_minimum=np.zeros((1, 2)),
                  normalizer_maximum=np.ones((1, 2)), num_features=2, seq_len=16, epoch=5, best_loss=0.25,
                  networks={"generator": {"w": torch.ones(3)}, "critic": {"v": torch.zeros(2)}},
                  optimizers={"generator": {"state": {}}}, rng={"latent": torch.zeros(4, dtype=torch.uint8)})
    values.update(overrides)
    return checkpoint.full(Config(model="DeepGAN", gamma=0.2), **values)


def test_a_full_checkpoint_round_trips_through_a_file(tmp_path):
    path = checkpoint.save(_full(), tmp_path / "checkpoints" / "checkpoint-last.pt")
    state = checkpoint.load(path)
    assert set(checkpoint.REQUIRED) <= set(state)
    assert state["kind"] == "full" and state["model"] == "DeepGAN" and state["epoch"] == 5 and state["best_loss"] == 0.25
    assert state["format"] == checkpoint.FORMAT and state["format_version"] == checkpoint.FORMAT_VERSION
    torch.testing.assert_close(state["critic"]["v"], torch.zeros(2))
    assert state["normalizer"]["maximum"].dtype == torch.float64
    assert checkpoint.config_of(state).gamma == 0.2
    assert state["versions"]["torch"] == str(torch.__version__)


def test_generator_and_networks_only_drop_what_they_should():
    state = _full()
    shared = checkpoint.generator_only(state)
    assert shared["kind"] == "generator" and not {"optimizers", "critic", "rng"} & set(shared)
    networks = checkpoint.networks_only(state)
    assert networks["kind"] == "networks" and "critic" in networks and not {"optimizers", "rng"} & set(networks)
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
