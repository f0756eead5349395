"""--generate: the npz archive and the native formats, read back by the project's own loaders."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch

import main
from deepnag.data import dollar_gds, jk2017
from tests.conftest import tiny

TINY = tiny("--max-per-class=12", "--batch-size=6", "--epochs=1")


@pytest.fixture(scope="module")
def trained(tmp_path_factory, shared_data) -> dict[str, Path]:
    """One tiny checkpoint per data set."""
    out = {}
    for name, classes in (("dollar-gds", "arrow,star"), ("jk2017-kinect", "duck,push"), ("jk2017-leap", "love,scissors")):
        logdir = tmp_path_factory.mktemp(name)
        assert main.main([*TINY, f"--dataset={name}", f"--classes={classes}", f"--datapath={shared_data}",
                          f"--logdir={logdir}"]) == 0
        (run,) = list(logdir.iterdir())
        out[name] = run / "checkpoints" / "checkpoint-final.pt"
    return out


def test_npz_holds_samples_in_data_units(trained, tmp_path):
    assert main.main([f"--generate={trained['dollar-gds']}", f"--output={tmp_path / 'synth'}", "--num-per-class=5"]) == 0
    archive = np.load(tmp_path / "synth.npz", allow_pickle=False)
    samples, labels, names = archive["samples"], archive["labels"], archive["class_names"]
    assert samples.dtype == np.float32 and samples.shape == (10, 12, 2)
    assert labels.dtype == np.int64 and labels.tolist() == [0] * 5 + [1] * 5
    assert names.tolist() == ["arrow", "star"]
    state = torch.load(trained["dollar-gds"], weights_only=True)
    lo, hi = state["normalizer"]["minimum"].numpy(), state["normalizer"]["maximum"].numpy()
    assert (samples >= lo - 1e-3).all() and (samples <= hi + 1e-3).all()  # tanh output mapped back
    assert samples.std() > 1.0  # data units (pixels), not [-1, 1]


def test_generation_is_seeded(trained, tmp_path):
    for name, seed in (("a", "7"), ("b", "7"), ("c", "8")):
        assert main.main([f"--generate={trained['dollar-gds']}", f"--output={tmp_path / name}", f"--seed={seed}"]) == 0
    a, b, c = (np.load(tmp_path / f"{n}.npz")["samples"] for n in "abc")
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_classes_picks_some_of_the_checkpoints_classes_in_the_order_given(trained, tmp_path):
    assert main.main([f"--generate={trained['dollar-gds']}", f"--output={tmp_path / 'stars'}", "--num-per-class=3",
                      "--classes=star", "--format=native"]) == 0
    archive = np.load(tmp_path / "stars.npz", allow_pickle=False)
    assert archive["labels"].tolist() == [1, 1, 1] and archive["class_names"].tolist() == ["arrow", "star"]
    assert archive["samples"].shape == (3, 12, 2)
    assert sorted(p.name for p in (tmp_path / "stars").rglob("*.xml")) == ["star01.xml", "star02.xml", "star03.xml"]
    assert main.main([f"--generate={trained['dollar-gds']}", f"--output={tmp_path / 'both'}", "--num-per-class=2",
                      "--classes=star,arrow"]) == 0
    assert np.load(tmp_path / "both.npz")["labels"].tolist() == [1, 1, 0, 0]


def test_native_dollar_gds_xml_loads_with_the_loader(trained, tmp_path):
    assert main.main([f"--generate={trained['dollar-gds']}", f"--output={tmp_path / 'synth'}", "--num-per-class=4", "--format=native"]) == 0
    raw = dollar_gds.load(tmp_path / "synth")
    names = [raw.class_names[i] for i in raw.labels]
    assert len(raw.sequences) == 8 and names == ["arrow"] * 4 + ["star"] * 4
    first = (tmp_path / "synth" / "dollar_gds" / "xml_logs" / "synthetic" / "medium" / "arrow01.xml").read_text()
    assert '<Gesture Name="arrow01"' in first
    times = [int(t) for t in __import__("re").findall(r'T="(\d+)"', first)]
    assert times == sorted(times) and len(set(times)) == len(times) == 12
    npz = np.load(tmp_path / "synth.npz")["samples"]
    np.testing.assert_allclose(np.stack(raw.sequences)[:4], npz[:4], atol=1e-3)


@pytest.mark.parametrize(("dataset", "first"), [("jk2017-kinect", "duck"), ("jk2017-leap", "love")])
def test_native_jk2017_text_loads_with_the_loader(trained, tmp_path, dataset, first):
    assert main.main([f"--generate={trained[dataset]}", f"--output={tmp_path / 'synth'}", "--num-per-class=3",
                      "--format=native"]) == 0
    reader = jk2017.KINECT if dataset == "jk2017-kinect" else jk2017.LEAP
    folder = tmp_path / "synth" / reader.FOLDER
    assert sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*.txt"))[:3] == [
        f"Sub_synthetic/{first}/ex_1.txt", f"Sub_synthetic/{first}/ex_2.txt", f"Sub_synthetic/{first}/ex_3.txt"]
    raw = reader.load_folder(folder)
    assert len(raw.sequences) == 6 and raw.sequences[0].shape == (12, 63)
    npz = np.load(tmp_path / "synth.npz")["samples"]
    # nine significant digits: the Leap Motion's large offset (about 411) keeps its hand-sized detail
    np.testing.assert_allclose(np.stack(raw.sequences), npz, rtol=1e-6, atol=1e-6)
    if dataset == "jk2017-leap":
        assert 400 < npz[..., 0].mean() < 420 and npz[..., 0].std() < 1  # the sensor's units, not [-1, 1]


@pytest.mark.parametrize(("argv", "message"), [
    (["--generate={dollar}", "--output={tmp}/no/such/x"], r"folder .*such does not exist"),
    (["--generate={tmp}/missing.pt", "--output={tmp}/x"], r"missing\.pt does not exist"),
    (["--generate={dollar}", "--output={tmp}/x", "--num-per-class=0"], r"--num-per-class must be at least 1"),
    (["--generate={dollar}", "--output={tmp}/x", "--classes=star,heart"],
     r"^error: unknown class\(es\) heart in --classes; .*checkpoint-final\.pt generates arrow, star$"),
    (["--generate={dollar}", "--output={tmp}/x", "--max-per-class=3"],
     r"^error: --max-per-class=3 conflicts with .*checkpoint-final\.pt, which holds 12; --generate takes model and data "
     r"set from the checkpoint$"),
    (["--generate={dollar}", "--output={tmp}/x", "--synthesizer=gpsr", "--classes=star"],
     r"^error: --classes picks the classes of a checkpoint's own samples \(--synthesizer=generator\); "
     r"--synthesizer=gpsr takes every class .*checkpoint-final\.pt trained on: leave out --classes$"),
    (["--generate={dollar}", "--output={tmp}/x", "--classes=star", "--metrics"],
     r"^error: --metrics measures a set of every class against the real samples of every class: leave out --classes, "
     r"or --metrics$"),
], ids=["output-folder", "checkpoint", "count", "unknown-class", "data-flag", "classes-of-gpsr", "classes-metrics"])
def test_generate_bad_inputs(trained, tmp_path, capsys, argv, message):
    import re

    assert main.main([a.format(dollar=trained["dollar-gds"], tmp=tmp_path) for a in argv]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert re.search(message, err), err
    assert not list(tmp_path.glob("x*"))


def test_metrics_json_and_table(trained, tmp_path, shared_data, caplog, monkeypatch):
    import json
    import logging

    from deepnag.recognition import gru_recognizer

    monkeypatch.setattr(gru_recognizer, "STEPS", 40)

    with caplog.at_level(logging.INFO, logger="deepnag"):
        assert main.main([f"--generate={trained['dollar-gds']}", f"--output={tmp_path / 'synth'}", "--num-per-class=5",
                          "--metrics", f"--datapath={shared_data}"]) == 0
    metrics = json.loads((tmp_path / "synth.metrics.json").read_text())
    assert 0.0 <= metrics["tstr_accuracy"] <= 1.0 and metrics["yardstick_accuracy"] > 0.9
    assert metrics["counts"]["synthetic"] == 10 and metrics["counts"]["real"] == 24  # 2 classes x 12 samples, 2 subjects
    assert metrics["recognizer"] == "Protractor" and metrics["checkpoint"]["model"] == "DeepNAG"
    assert "augmentation" not in metrics and "held-out augmentation study" not in caplog.text  # --metrics=study's
    assert "recognition (TSTR)" in caplog.text and "fidelity AHD (ed)" in caplog.text
    table = next(r.getMessage() for r in caplog.records if "recognition (TSTR)" in r.getMessage()).splitlines()
    assert table[1].split()[:1] == ["metric"] and "better" in table[1]
    rows = {line.split("  ")[0].strip(): line for line in table[2:]}
    assert "higher" in rows["recognition (TSTR)"] and "lower" in rows["fidelity AHD (ed)"]
    assert "near baseline" in rows["diversity (cos)"]
    learned = metrics["learned"]
    assert learned["recognizer"] == "GRURecognizer" and 0.0 <= learned["tstr_accuracy"] <= 1.0
    assert f"{learned['yardstick_accuracy']:.4f}" in rows["learned recogniser (TSTR)"]
    timing = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("TSTR "))
    stated = float(timing.split("metrics in ")[1].split(" s")[0])
    assert stated == pytest.approx(sum(metrics["seconds"].values()), abs=0.06)
    assert f"TSTR {metrics['seconds']['tstr']:.1f} s" in timing


def test_metrics_without_the_data_set_is_a_clear_error(trained, tmp_path, capsys):
    code = main.main([f"--generate={trained['dollar-gds']}", f"--output={tmp_path / 'synth'}", "--metrics",
                      f"--datapath={tmp_path / 'empty'}", "--download-url=http://127.0.0.1:9/xml.zip"])
    assert code == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err.startswith("error: could not download http://127.0.0.1:9/xml.zip after 3 attempts")


@pytest.mark.parametrize("method", ["DeepNAG", "DeepGAN"])
@pytest.mark.parametrize("dataset, classes, features", [("dollar-gds", 16, 2), ("jk2017-kinect", 14, 63)])
def test_shipped_pretrained_generators_generate(tmp_path, method, dataset, classes, features):
    from tests.conftest import ROOT

    model = ROOT / "pretrained_models" / method / dataset / "generator.pt"
    state = torch.load(model, weights_only=True)
    assert state["kind"] == "generator" and "optimizers" not in state and model.stat().st_size < 10 * 1024 * 1024
    assert state["model"] == method and state["dataset"] == dataset and state["config"]["datapath"] == "data"
    assert main.main([f"--generate={model}", f"--output={tmp_path / 'synth'}", "--num-per-class=2"]) == 0
    archive = np.load(tmp_path / "synth.npz", allow_pickle=False)
    assert archive["samples"].shape == (2 * classes, 64, features) and len(archive["class_names"]) == classes
    assert np.isfinite(archive["samples"]).all()


@pytest.mark.parametrize(("dataset", "classes", "features"), [("dollar-gds", "arrow,star", 2),
                                                              ("jk2017-kinect", "duck,push", 63),
                                                              ("jk2017-leap", "love,sideways", 63)])
def test_gpsr_writes_variants_of_every_real_sample_like_any_synthetic_set(tmp_path, shared_data, dataset, classes,
                                                                          features):
    out = tmp_path / "gpsr"
    assert main.main([f"--dataset={dataset}", f"--classes={classes}", f"--datapath={shared_data}", "--subjects=" +
                      {"dollar-gds": "s02,s03", "jk2017-kinect": "Sub_U100,Sub_U101", "jk2017-leap": "Sub_U300,Sub_U400"}[dataset],
                      "--synthesizer=gpsr",
                      "--num-per-sample=3", f"--output={out}", "--format=native"]) == 0
    archive = np.load(tmp_path / "gpsr.npz", allow_pickle=False)
    real = 2 * 2 * (10 if dataset == "dollar-gds" else 2)
    assert archive["samples"].shape == (3 * real, 32, features) and archive["samples"].dtype == np.float32
    assert np.bincount(archive["labels"]).tolist() == [3 * real // 2] * 2
    assert archive["class_names"].tolist() == classes.split(",")
    reader = {"jk2017-kinect": jk2017.KINECT, "jk2017-leap": jk2017.LEAP}.get(dataset)
    loaded = dollar_gds.load(out) if reader is None else reader.load_folder(out / reader.FOLDER)
    assert len(loaded.sequences) == 3 * real and len(set(loaded.subjects)) == 1
    assert "synthetic" in loaded.subjects[0]
    # Every file read back is one archived sample (the readers sort file names, so match by content).
    gap = np.abs(np.stack(loaded.sequences)[:, None] - archive["samples"][None]).max(axis=(2, 3))
    assert gap.min(axis=1).max() < 1e-3 and len(set(gap.argmin(axis=1))) == 3 * real


def test_gpsr_of_a_checkpoint_uses_its_training_samples(trained, tmp_path):
    out = tmp_path / "gpsr"
    assert main.main([f"--generate={trained['dollar-gds']}", "--synthesizer=gpsr", f"--output={out}"]) == 0
    archive = np.load(tmp_path / "gpsr.npz", allow_pickle=False)
    assert archive["samples"].shape == (8 * 2 * 12, 32, 2)  # --max-per-class=12 of two classes, 8 variants each


@pytest.mark.parametrize(("synthesizer", "per_class"), [("mix", 5), ("mix", 1), ("chain-mix", 5)])
def test_mix_writes_half_generator_half_variants_of_the_training_samples_per_class(trained, tmp_path, synthesizer,
                                                                                  per_class):
    from deepnag import checkpoint
    from deepnag.data import chain, gpsr
    from deepnag.data.batches import training_raw_for
    from deepnag.data.preprocessing import resample

    path = trained["dollar-gds"]
    assert main.main([f"--generate={path}", f"--synthesizer={synthesizer}", f"--num-per-class={per_class}",
                      f"--output={tmp_path / 'mix'}", "--format=native"]) == 0
    assert main.main([f"--generate={path}", f"--num-per-class={per_class // 2 or 1}", f"--output={tmp_path / 'gen'}"]) == 0
    mix, generated = np.load(tmp_path / "mix.npz"), np.load(tmp_path / "gen.npz")
    state = checkpoint.load(path)
    saved = checkpoint.config_of(state)
    raw = training_raw_for(saved)
    half = per_class - per_class // 2
    per_class_of = {"mix": gpsr.per_class, "chain-mix": chain.per_class}[synthesizer]
    variants, _ = per_class_of(raw.sequences, raw.labels, half, np.random.default_rng(saved.seed), 2)
    samples = mix["samples"].reshape(2, per_class, *mix["samples"].shape[1:])
    assert mix["samples"].shape == (2 * per_class, state["seq_len"], 2) and mix["samples"].dtype == np.float32
    assert mix["labels"].tolist() == [0] * per_class + [1] * per_class
    np.testing.assert_allclose(samples[:, :half].reshape(-1, *samples.shape[2:]),
                               resample(list(variants), int(state["seq_len"])), rtol=1e-5, atol=1e-3)
    if per_class // 2:
        np.testing.assert_array_equal(samples[:, half:], generated["samples"].reshape(2, per_class // 2,
                                                                                     *samples.shape[2:]))
    assert len(dollar_gds.load(tmp_path / "mix").sequences) == 2 * per_class


def test_vetted_chain_mix_writes_the_chain_then_the_vetted_generator_samples_filled_with_chained(trained, tmp_path,
                                                                                                 caplog):
    """--synthesizer=vetted-chain-mix: per class the chain-mix's chained half, then `vetting.vetted_half` of the
    checkpoint's training samples (vetted samples first, chained variants for the places a class is short)."""
    from deepnag import checkpoint
    from deepnag.data import chain
    from deepnag.data.batches import training_raw_for
    from deepnag.data.preprocessing import resample
    from deepnag.generate import vetting
    from deepnag.generate.sampling import load_generator

    path, per_class = trained["dollar-gds"], 6
    assert main.main([f"--generate={path}", "--synthesizer=vetted-chain-mix", f"--num-per-class={per_class}",
                      f"--output={tmp_path / 'vetted'}"]) == 0
    written = np.load(tmp_path / "vetted.npz")
    state = checkpoint.load(path)
    saved = checkpoint.config_of(state)
    raw = training_raw_for(saved)
    samples = written["samples"].reshape(2, per_class, *written["samples"].shape[1:])
    assert written["labels"].tolist() == [0] * per_class + [1] * per_class
    variants, _ = chain.per_class(raw.sequences, raw.labels, 3, np.random.default_rng(saved.seed), 2)
    np.testing.assert_allclose(samples[:, :3].reshape(-1, *samples.shape[2:]),
                               resample(list(variants), int(state["seq_len"])), rtol=1e-5, atol=1e-3)
    kept = vetting.vetted_per_class(state, load_generator(state, str(path)), 3, saved.seed, raw.sequences, raw.labels)
    spare, _ = chain.per_class(raw.sequences, raw.labels, 3, np.random.default_rng([saved.seed, 1]), 2)
    counts = np.bincount(kept[1], minlength=2)
    for c in range(2):
        mine = kept[0][kept[1] == c]
        np.testing.assert_array_equal(samples[c, 3:3 + counts[c]], mine)
        if counts[c] < 3:
            np.testing.assert_allclose(samples[c, 3 + counts[c]:], resample(list(spare[3 * c:3 * c + 3 - counts[c]]),
                                                                            int(state["seq_len"])), rtol=1e-5, atol=1e-3)
    assert 0 < counts.sum() < 6  # both sides of the fill were checked
    assert f"vetted: {counts.sum()} of the generator's samples kept (3 per class wanted, 12 drawn per class" in caplog.text


def test_a_new_set_replaces_the_earlier_one_at_its_output_as_a_whole(trained, tmp_path, caplog):
    """--generate over an earlier native set with metrics leaves nothing of it: no stale folder, no stale metrics."""
    out = tmp_path / "synthetic"
    (tmp_path / "synthetic.metrics.json").write_text("{}")  # as an earlier --metrics run left it
    assert main.main([f"--generate={trained['dollar-gds']}", f"--output={out}", "--num-per-class=2",
                      "--format=native"]) == 0
    assert out.is_dir() and not (tmp_path / "synthetic.metrics.json").exists()
    assert main.main([f"--generate={trained['jk2017-kinect']}", f"--output={out}", "--num-per-class=2"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["synthetic.npz"]
    assert f"replaced the earlier set at {out}.npz as a whole: removed {out}" in caplog.text
    assert np.load(tmp_path / "synthetic.npz")["samples"].shape[-1] == 63


def test_an_existing_folder_as_output_is_refused_and_left_alone(trained, tmp_path, capsys):
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("keep")
    assert main.main([f"--generate={trained['dollar-gds']}", f"--output={mine}", "--num-per-class=2"]) == 2
    assert capsys.readouterr().err.strip() == (
        f"error: --output={mine} is an existing folder; --output names the set to write ({mine}.npz, and {mine}/ with "
        f"--format native): give a new name such as {mine / 'synthetic'}")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"] and (mine / "notes.txt").read_text() == "keep"


def test_native_folders_get_the_permissions_of_their_parent(trained, tmp_path):
    tmp_path.chmod(0o755)
    assert main.main([f"--generate={trained['dollar-gds']}", f"--output={tmp_path / 'synth'}", "--num-per-class=1",
                      "--format=native"]) == 0
    assert (tmp_path / "synth").stat().st_mode & 0o777 == 0o755


def test_a_full_disk_or_a_refused_output_while_generating_is_one_line(shared_data, tmp_path, monkeypatch, capsys):
    """`--output` where the system refuses to write, then a disk that fills while the samples are written."""
    flags = ["--synthesizer=gpsr", "--dataset=dollar-gds", "--subjects=s06", "--num-per-sample=1",
             f"--datapath={shared_data}"]
    assert main.main([*flags, "--output=/proc/synth"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error: cannot write /proc/synth.npz: "), err

    def fills_the_disk(out, **arrays):
        out.write(b"PK half")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(np, "savez", fills_the_disk)
    assert main.main([*flags, f"--output={tmp_path / 'gpsr'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "gpsr.npz: no space left on its disk" in err[0], err
    assert list(tmp_path.iterdir()) == []


def test_an_output_file_this_program_did_not_write_is_never_replaced(shared_data, tmp_path, capsys):
    """A set written here before is replaced as a whole; a file of the user's with that name is refused, untouched."""
    flags = ["--synthesizer=gpsr", "--dataset=dollar-gds", "--subjects=s06", "--num-per-sample=1",
             f"--datapath={shared_data}"]
    mine = tmp_path / "mine.npz"
    np.savez(mine, results=np.arange(3))
    before = mine.read_bytes()
    assert main.main([*flags, f"--output={tmp_path / 'mine'}"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"error: --output={tmp_path / 'mine'} would replace {mine}, which this program did not write; "
                   f"give a new name such as {tmp_path / 'mine-synthetic'}"]
    assert mine.read_bytes() == before
    assert main.main([*flags, f"--output={tmp_path / 'ours'}"]) == 0
    assert main.main([*flags, f"--output={tmp_path / 'ours'}"]) == 0  # its own set: replaced
