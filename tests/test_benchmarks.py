"""The benchmark scripts: each answers --help; the augmentation protocol's folds and summary; time to quality."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

import main
from tests.conftest import ROOT, tiny

SCRIPTS = sorted(p.name for p in (ROOT / "benchmarks").glob("*.py") if "__main__" in p.read_text())  # not the helpers


@pytest.mark.parametrize("script", SCRIPTS)
def test_every_benchmark_answers_help(script, monkeypatch, capsys):
    """Each script as `python -m benchmarks.<script> --help` runs it, but in this process (a fresh interpreter a script
    costs seconds; one is started below)."""
    monkeypatch.setattr(sys, "argv", [script, "--help"])
    with pytest.raises(SystemExit) as exit_:
        importlib.import_module(f"benchmarks.{script.removesuffix('.py')}").main()  # what each one's __main__ runs
    assert exit_.value.code in (0, None)
    assert capsys.readouterr().out.startswith("usage:")


def test_a_benchmark_answers_help_as_a_module_of_a_fresh_interpreter():
    done = subprocess.run([sys.executable, "-m", "benchmarks.realism", "--help"], cwd=ROOT, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.startswith("usage:")


@pytest.mark.parametrize(("argv", "message"), [
    ([], "usage: bash benchmarks/mutation.sh core|resume"),
    (["everything"], "usage: bash benchmarks/mutation.sh core|resume"),
    (["core", "--all"], "error: unknown option --all; the one option is --survivors"),
])
def test_the_mutation_script_refuses_what_it_does_not_know(argv, message):
    done = subprocess.run(["bash", "benchmarks/mutation.sh", *argv], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stderr.strip()) == (2, message)


def _run(command: list[str], capsys: pytest.CaptureFixture) -> subprocess.CompletedProcess:
    """`command` (`python main.py …` or `python -m benchmarks.<name> …`) run in this process, as `subprocess.run` from
    the project root would: its exit status, stdout and stderr (a fresh interpreter costs seconds a call)."""
    import main

    assert command[0] == sys.executable and command[1] in ("main.py", "-m"), command
    capsys.readouterr()
    saved = sys.argv
    sys.argv = [command[2] if command[1] == "-m" else "main.py", *command[3 if command[1] == "-m" else 2:]]
    try:
        code = main.main(sys.argv[1:]) if command[1] == "main.py" else importlib.import_module(command[2]).main()
        code = code if isinstance(code, int) else 0
    except SystemExit as stopped:
        code = stopped.code
    finally:
        sys.argv = saved
    if isinstance(code, str):  # SystemExit(message): the interpreter prints it and exits with status 1
        print(code, file=sys.stderr)
        code = 1
    out, err = capsys.readouterr()
    return subprocess.CompletedProcess(command, code or 0, out, err)


def _augmentation():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import augmentation
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    return augmentation


def test_folds_are_disjoint_slices_of_one_seeded_permutation():
    bench = _augmentation()
    subjects = [f"s{i:02d}" for i in range(2, 12)] * 3
    folds = [bench.fold_subjects(subjects, 2, f) for f in range(5)]
    assert all(len(f) == 2 for f in folds) and len({s for f in folds for s in f}) == 10  # 5 × 2 disjoint: all ten
    assert bench.fold_subjects(subjects, 2, 0) == folds[0]  # seeded
    assert len(bench.fold_subjects(subjects, 5, 2)) == 5  # wraps around past the end


def test_the_summary_averages_folds_and_pairs_each_kind_with_the_best_simple_one():
    bench = _augmentation()

    def study(real, errors, recognizer="Protractor"):
        rows = [{"added": kind, "per_class": 8, "error": {"mean": e}, "reduction": {"mean": (real - e) / real}}
                for kind, e in errors.items()]
        return {"recognizer": recognizer, "real_error": real, "rows": rows}

    def fold(real, gpsr, generator, learned=None):
        return {"dataset": "dollar-gds", "writers": 2, "epochs": 100, "budget": "5m",
                "study": {**study(real, {"gpsr": gpsr, "generator": generator}), "tstr_heldout_accuracy": 0.5,
                          "learned": learned}}

    text = bench.summary([fold(0.2, 0.1, 0.3), fold(0.4, 0.2, 0.4)])
    assert "**dollar-gds, 2 training writer(s)**: 2 folds, Protractor" in text
    assert "| 8 | real + GPSR | 0.150 | -50.0% ± 0.0 |" in text
    assert "| 8 | real + generator | 0.350 | +25.0% ± 35.4 |" in text
    assert "| 8 | generator − best simple (GPSR, paired) | +0.2000 ± 0.0000 | fewer errors than it in 0 of 2 folds |" in text
    assert "## learned" not in text  # no fold has a learned study
    text = bench.summary([fold(0.2, 0.1, 0.05), fold(0.4, 0.2, 0.3)])
    assert "| 8 | generator − best simple (GPSR, paired) | +0.0250 ± 0.1061 | fewer errors than it in 1 of 2 folds |" in text
    assert "| generator | n/a |" in text  # the compact table is at 160 per class, which these folds lack
    assert "| generator | +0.0250 ± 0.1061 (1/2, vs GPSR) |" in bench.against_best_simple(
        [fold(0.2, 0.1, 0.05), fold(0.4, 0.2, 0.3)], 8)
    # the learned recogniser's folds: chain is the better simple kind in one fold, GPSR in the other
    learned = [study(0.5, {"gpsr": 0.4, "chain": 0.3, "generator": 0.45}, "GRURecognizer"),
               study(0.5, {"gpsr": 0.2, "chain": 0.25, "generator": 0.1}, "GRURecognizer")]
    text = bench.summary([fold(0.2, 0.1, 0.3, learned[0]), fold(0.4, 0.2, 0.4, learned[1])])
    one_nn, learned_part = text.split("## learned")
    assert "GRURecognizer" not in one_nn and "**dollar-gds, 2 training writer(s)**: 2 folds, GRURecognizer" in learned_part
    assert "| 8 | real + chain | 0.275 | -45.0% ± 7.1 |" in learned_part
    assert "| 8 | generator − best simple (chain/GPSR, paired) | +0.0250 ± 0.1768 | fewer errors than it in 1 of 2 folds |" \
        in learned_part


def test_time_to_quality_measures_each_point_once_and_resumes(tmp_path, shared_data, capsys):
    recipe = "tiny=--classes=arrow,star --max-per-class=4 --resample-n=12 --batch-size=4 --vis-frequency=0"
    command = [sys.executable, "-m", "benchmarks.time_to_quality", f"--datapath={shared_data}", "--datasets=dollar-gds",
               "--points=2s,4s", f"--recipe={recipe}", f"--out={tmp_path}", "--threads=1"]
    done = _run(command, capsys)
    assert done.returncode == 0, done.stderr[-2000:]
    rows = [json.loads(line) for line in (tmp_path / "dollar-gds-tiny" / "points.jsonl").read_text().splitlines()]
    assert [r["seconds"] for r in rows] == [2.0, 4.0] and 1 <= rows[0]["epoch"] < rows[1]["epoch"]
    for r in rows:
        assert 0.0 <= r["tstr"] <= 1.0 and r["ratio"] == pytest.approx(r["tstr"] / r["yardstick"])
        assert r["tstr_sd"] >= 0.0 and 0.0 < r["yardstick"] <= 1.0
    summary = (tmp_path / "summary.md").read_text()
    assert "| dollar-gds | 0.0333333 min | 0.0666667 min |" in summary
    cells = [f"{r['ratio']:.2f} ± {r['tstr_sd'] / r['yardstick']:.2f} ({r['epoch']})" for r in rows]
    assert f"| tiny | {cells[0]} | {cells[1]} |" in summary
    assert (tmp_path / "time_to_quality.png").read_bytes().startswith(b"\x89PNG")
    again = _run(command, capsys)
    assert again.returncode == 0 and "run directory" not in again.stderr  # nothing trained twice
    assert len((tmp_path / "dollar-gds-tiny" / "points.jsonl").read_text().splitlines()) == 2


def test_augmentation_options_add_rows_to_a_trained_fold_and_resume(tmp_path, shared_data, capsys):
    fold = tmp_path / "dollar-gds-w2-f0"
    flags = ["--classes=arrow,star", "--resample-n=12", "--batch-size=16", "--use-tensorboard=0", "--epochs=1",
             "--vis-frequency=0", "--subjects=s02,s03", f"--datapath={shared_data}", f"--logdir={fold / 'logs'}"]
    assert _run([sys.executable, "main.py", *flags], capsys).returncode == 0
    (fold / "result.json").write_text(json.dumps({"dataset": "dollar-gds", "writers": 2, "fold": 0, "epochs": 1,
                                                  "budget": "1 epoch", "study": {}}))
    command = [sys.executable, "-m", "benchmarks.augmentation_options", f"--out={tmp_path}", f"--datapath={shared_data}",
               "--options=generator → GPSR,½ GPSR + ½ generator → GPSR,spread 1.5"]
    done = _run(command, capsys)
    assert done.returncode == 0, done.stderr[-2000:]
    study = json.loads((fold / "options.json").read_text())["study"]
    kinds = list(dict.fromkeys(row["added"] for row in study["rows"]))
    assert kinds == ["gpsr", "chain", "generator", "mix", "chain-mix", "generator → GPSR", "½ GPSR + ½ generator → GPSR", "spread 1.5"]
    assert study["seen_subjects"] == ["s02", "s03"] and "s04" in study["heldout_subjects"]
    summary = (tmp_path / "options.md").read_text()
    assert "| 8 | real + spread 1.5 |" in summary and "+ generator → GPSR (32 / 160)" in summary
    again = _run(command, capsys)
    assert again.returncode == 0 and "dollar-gds-w2-f0:" not in again.stdout  # measured once
    more = _run([*command[:-1], "--options=spread 1.5,generator share 0.25"], capsys)
    assert more.returncode == 0, more.stderr[-2000:]
    assert "dollar-gds-w2-f0: generator share 0.25\n" in more.stdout  # only the missing option measured
    extended = json.loads((fold / "options.json").read_text())["study"]
    assert extended["rows"][:len(study["rows"])] == study["rows"]
    assert list(dict.fromkeys(row["added"] for row in extended["rows"]))[-1] == "generator share 0.25"
    assert {(r["added"], r["per_class"]) for r in extended["versus_gpsr"]} == {
        (kind, k) for kind in [*kinds[2:], "generator share 0.25"] for k in (8, 32, 160)}  # all but GPSR and chain
    (fold / "options.json").write_text(json.dumps({**json.loads((fold / "options.json").read_text()), "study": {
        **extended, "rows": [{**r, "errors": [0.5] * len(r["errors"])} if r["added"] == "gpsr" else r
                             for r in extended["rows"]]}}))
    stale = _run([*command[:-1], "--options=spread 2"], capsys)
    assert stale.returncode == 1 and "its rows differ from a new measurement of the same seeds" in stale.stderr
    flags = command[3:]  # the refusals, in this process
    assert "no finished fold matching 'jk2017-kinect-*'" in _refusal("augmentation_options",
                                                                     [*flags, "--folds=jk2017-kinect-*"])
    for bad in ("spread wide", "generator share 1.5", "generator share 2"):
        assert f"--options: unknown option {bad!r}" in _refusal("augmentation_options", [*flags[:-1], f"--options={bad}"])
    _filtered_generator_keeps_what_the_seen_recogniser_gets_right(fold, shared_data)


def _filtered_generator_keeps_what_the_seen_recogniser_gets_right(fold, shared_data):
    from deepnag import checkpoint
    from deepnag.data import load_raw, subjects
    from deepnag.generate.sampling import generate_per_class, load_generator
    from deepnag.recognition.recognizers import recognizer_for

    options = _import_benchmark("augmentation_options")
    path = next(fold.glob("logs/*/checkpoints/checkpoint-best.pt"))
    state = checkpoint.load(path)
    generator = load_generator(state, str(path))
    seen = subjects.keep(load_raw("dollar-gds", shared_data).select(("arrow", "star")), ["s02", "s03"])
    k, pool_size = 6, 6 * options.FILTER_POOL
    make = options.options_for(state, generator, ["filtered generator"])["filtered generator"]
    kept, kept_labels = make(seen.sequences, seen.labels)(k, 3)
    pool, pool_labels = generate_per_class(state, generator, pool_size, 3)
    recognizer = recognizer_for(2).fit(seen.sequences, seen.labels)
    right = recognizer.predict(list(pool)) == pool_labels
    assert kept_labels.tolist() == np.repeat([0, 1], k).tolist()
    for c in range(2):
        candidates = np.arange(c * pool_size, (c + 1) * pool_size)
        expected = [*candidates[right[candidates]], *candidates[~right[candidates]]][:k]  # right first, as drawn
        assert np.array_equal(kept[c * k:(c + 1) * k], pool[expected])
    assert 0 < right.sum() < len(right)  # the filter had something to do
    _the_learned_options_judge_with_the_gru_and_chain_the_generator(options, state, generator, seen, pool, pool_labels)


def _the_learned_options_judge_with_the_gru_and_chain_the_generator(options, state, generator, seen, pool, pool_labels):
    """`GRU-filtered generator` keeps what the seen writers' GRU (the sampling seed its training seed) gets right;
    `generator → chain` is one chained variant of each of the generator's samples."""
    from deepnag.data import chain
    from deepnag.generate.sampling import generate_per_class
    from deepnag.recognition.gru_recognizer import GRURecognizer

    k, pool_size = 6, 6 * options.FILTER_POOL
    made = options.options_for(state, generator, ["GRU-filtered generator", "generator → chain"])
    kept, _ = made["GRU-filtered generator"](seen.sequences, seen.labels)(k, 3)
    right = GRURecognizer(random_state=3).fit(seen.sequences, seen.labels).predict(list(pool)) == pool_labels
    for c in range(2):
        candidates = np.arange(c * pool_size, (c + 1) * pool_size)
        expected = [*candidates[right[candidates]], *candidates[~right[candidates]]][:k]
        assert np.array_equal(kept[c * k:(c + 1) * k], pool[expected])
    chained, labels = made["generator → chain"](seen.sequences, seen.labels)(k, 3)
    drawn, drawn_labels = generate_per_class(state, generator, k, 3)
    assert np.array_equal(labels, drawn_labels)
    assert np.array_equal(chained, chain.variants(list(drawn), np.random.default_rng(3 + options.CHAIN_STREAM)))
    _inversion_is_the_source_of_the_chain(options, state, generator, seen)


def _inversion_is_the_source_of_the_chain(options, state, generator, seen):
    """`near seen S → chain`: one chained variant of each neighbour of a seen sample; `½ chain + ½ near seen S →
    chain`: those at every second place of a class, chained real samples between them."""
    from deepnag.data import chain

    names = ["near seen 0.5", "near seen 0.5 → chain", "½ chain + ½ near seen 0.5 → chain"]
    made = options.options_for(state, generator, names)
    near, near_labels = made["near seen 0.5"](seen.sequences, seen.labels)(4, 3)
    chained, labels = made["near seen 0.5 → chain"](seen.sequences, seen.labels)(4, 3)
    assert labels.tolist() == near_labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert np.array_equal(chained, chain.variants(list(near), np.random.default_rng(3 + options.CHAIN_STREAM)))
    mixed, _ = made["½ chain + ½ near seen 0.5 → chain"](seen.sequences, seen.labels)(4, 3)
    real, _ = chain.per_class(seen.sequences, seen.labels, 4, np.random.default_rng(3 + 2 * options.CHAIN_STREAM), 2)
    for c in range(2):
        block = slice(4 * c, 4 * c + 4)
        assert np.array_equal(mixed[block][0::2], real[block][:2])
        assert np.array_equal(mixed[block][1::2], chained[block][:2])
    _chain_shares_and_the_chain_after_the_generator(options, state, generator, seen)


def _chain_shares_and_the_chain_after_the_generator(options, state, generator, seen):
    """`chain + generator share P`: the generator's samples at a share P of each class's places, chained real ones at
    the rest (P = 0: the chain alone, on the options' stream); `½ chain + ½ generator → chain`: chained real samples
    and chained generator samples alternating."""
    from deepnag.data import chain
    from deepnag.data.preprocessing import resample
    from deepnag.generate.sampling import generate_per_class

    names = ["chain + generator share 0", "chain + generator share 0.25", "½ chain + ½ generator → chain",
             "generator → chain"]
    made = {name: make(seen.sequences, seen.labels) for name, make in options.options_for(state, generator, names).items()}
    real, _ = chain.per_class(seen.sequences, seen.labels, 4, np.random.default_rng(3 + 2 * options.CHAIN_STREAM), 2)
    drawn, _ = generate_per_class(state, generator, 4, 3)

    def fit(x):  # the mix resamples the second set to the first's number of points where they differ
        return x if x.shape[1] == real.shape[1] else resample(x, real.shape[1])
    alone, labels = made["chain + generator share 0"](4, 3)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1] and np.array_equal(alone, real)
    quarter, _ = made["chain + generator share 0.25"](4, 3)
    through, _ = made["generator → chain"](4, 3)
    mixed, _ = made["½ chain + ½ generator → chain"](4, 3)
    for c in range(2):
        block = slice(4 * c, 4 * c + 4)
        assert np.array_equal(quarter[block][:3], real[block][:3])  # three chained, then one of the generator's
        assert np.allclose(quarter[block][3], fit(drawn)[block][0], atol=1e-5)
        assert np.array_equal(mixed[block][0::2], real[block][:2])
        assert np.allclose(mixed[block][1::2], fit(through)[block][:2], atol=1e-5)
    _vetted_options_keep_what_the_seen_writers_1nn_puts_in_class(options, state, generator, seen)


def _vetted_options_keep_what_the_seen_writers_1nn_puts_in_class(options, state, generator, seen):
    """`vetted generator R`: `vetting.vetted_per_class` at margin R filled from a chain stream of its own (R = 0 keeps
    nothing: that stream alone); `½ chain + ½ vetted generator R`: chained real samples alternating with those."""
    from deepnag.data import chain
    from deepnag.data.preprocessing import resample
    from deepnag.generate import vetting
    from deepnag.generate.sampling import generate_per_class

    names = ["vetted generator 1", "vetted generator 0", "½ chain + ½ vetted generator 0.9", "vetted generator 1 → chain",
             "vetted generator 0.9 → chain", "½ chain + ½ spread 1.5"]
    made = {name: make(seen.sequences, seen.labels) for name, make in options.options_for(state, generator, names).items()}
    spare = chain.per_class(seen.sequences, seen.labels, 4, np.random.default_rng(3 + 3 * options.CHAIN_STREAM), 2)
    real, _ = chain.per_class(seen.sequences, seen.labels, 4, np.random.default_rng(3 + 2 * options.CHAIN_STREAM), 2)
    kept = vetting.vetted_per_class(state, generator, 4, 3, seen.sequences, seen.labels, 1.0)
    assert 0 < len(kept[0])  # some of the generator's samples pass
    alone, labels = made["vetted generator 1"](4, 3)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    assert np.array_equal(alone, vetting.filled(kept, spare, 4, 2)[0])
    none, _ = made["vetted generator 0"](4, 3)
    assert np.array_equal(none, spare[0])
    strict = vetting.filled(vetting.vetted_per_class(state, generator, 4, 3, seen.sequences, seen.labels, 0.9), spare,
                            4, 2)[0]
    mixed, _ = made["½ chain + ½ vetted generator 0.9"](4, 3)
    for c in range(2):
        block = slice(4 * c, 4 * c + 4)
        assert np.array_equal(mixed[block][0::2], real[block][:2])
        assert np.allclose(mixed[block][1::2], resample(strict, real.shape[1])[block][:2], atol=1e-5)
    wider, _ = made["½ chain + ½ spread 1.5"](4, 3)  # a wider latent's samples alternating with chained real ones
    drawn, _ = generate_per_class(state, generator, 4, 3, 1.5)
    for c in range(2):
        block = slice(4 * c, 4 * c + 4)
        assert np.array_equal(wider[block][0::2], real[block][:2])
        assert np.allclose(wider[block][1::2], resample(drawn, real.shape[1])[block][:2], atol=1e-5)
    # `→ chain`: each vetted generator sample chained once (the generator-on-chain stream); the fill left as it was
    for margin, vetted_set in (("1", alone), ("0.9", strict)):
        samples, short = vetting.filled(vetting.vetted_per_class(state, generator, 4, 3, seen.sequences, seen.labels,
                                                                 float(margin)), spare, 4, 2)[0::2]
        through = chain.variants(list(samples), np.random.default_rng(3 + options.CHAIN_STREAM))
        chained, labels = made[f"vetted generator {margin} → chain"](4, 3)
        assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1] and chained.shape == through.shape
        for c in range(2):
            generated = 4 - int(short[c])
            block = slice(4 * c, 4 * c + 4)
            assert np.array_equal(chained[block][:generated], through[block][:generated])
            assert np.allclose(chained[block][generated:], resample(vetted_set, through.shape[1])[block][generated:])
    assert int(vetting.filled(vetting.vetted_per_class(state, generator, 4, 3, seen.sequences, seen.labels, 0.9), spare,
                              4, 2)[2].sum()) > 0  # the stricter margin leaves a fill to tell apart


def test_checkpoint_options_measure_a_checkpoints_held_out_writers_and_resume(tmp_path, shared_data, capsys):
    """The study --metrics runs on a checkpoint of two writers, one more row per option for both recognisers, the
    table of differences from the chain printed; options measured before are kept, the missing ones added."""
    logs = tmp_path / "logs"
    flags = ["--classes=arrow,star", "--resample-n=12", "--batch-size=16", "--use-tensorboard=0", "--epochs=1",
             "--vis-frequency=0", "--subjects=s02,s03", f"--datapath={shared_data}", f"--logdir={logs}"]
    assert _run([sys.executable, "main.py", *flags], capsys).returncode == 0
    path = next(logs.glob("*/checkpoints/checkpoint-best.pt"))
    name = path.parent.parent.name  # a run's checkpoints/ is named for its run
    out = tmp_path / "out"
    command = [sys.executable, "-m", "benchmarks.checkpoint_options", str(path), f"--out={out}", "--counts=4",
               f"--datapath={shared_data}", "--learned-steps=5", "--options=chain + generator share 0"]
    done = _run(command, capsys)
    assert done.returncode == 0, done.stderr[-2000:]
    result = json.loads((out / f"{name}.json").read_text())
    for part in (result["study"], result["study"]["learned"]):
        assert [r["added"] for r in part["rows"]] == ["gpsr", "chain", "generator", "mix", "chain-mix",
                                                      "chain + generator share 0"]
        assert all(r["per_class"] == 4 for r in part["rows"])
    assert result["study"]["seen_subjects"] == ["s02", "s03"] and "s04" in result["study"]["heldout_subjects"]
    assert len(result["study"]["learned"]["real_errors"]) == 3  # the learned recogniser over its three seeds
    chain = [r for r in result["study"]["learned"]["rows"] if r["added"] == "chain"][0]["errors"]
    assert f"| GRURecognizer | chain | {sum(chain) / 3:.3f} | +0.0000 (+0.0000…+0.0000) | 0 / 3 |" in done.stdout
    mix = [r for r in result["study"]["learned"]["rows"] if r["added"] == "chain-mix"][0]["errors"]
    diff = np.subtract(mix, chain)
    se2 = 2 * diff.std(ddof=1) / np.sqrt(3)
    mark = " ▼" if diff.mean() + se2 < 0 else " ▲" if diff.mean() - se2 > 0 else ""
    assert (f"| GRU | 3 | {sum(chain) / 3:.3f} | {diff.mean():+.4f} ± {se2:.4f}{mark} ({(diff < 0).sum()}/"
            f"{(diff > 0).sum()}) | n/a | n/a |") in done.stdout  # the redraw's column comes next, the shares are n/a
    again = _run(command, capsys)
    assert again.returncode == 0 and f"{name}:" not in again.stdout  # measured once
    more = _run([*command[:-1], "--options=chain + generator share 0,½ chain + ½ generator → chain,"
                 "chain + generator share 0.5"], capsys)
    assert more.returncode == 0
    assert f"{name}: ½ chain + ½ generator → chain, chain + generator share 0.5\n" in more.stdout
    extended = json.loads((out / f"{name}.json").read_text())
    assert extended["study"]["learned"]["rows"][:6] == result["study"]["learned"]["rows"]
    assert [r["added"] for r in extended["study"]["rows"][6:]] == ["½ chain + ½ generator → chain",
                                                                   "chain + generator share 0.5"]
    errors = {r["added"]: r["errors"] for r in extended["study"]["rows"]}  # 1-NN: a share paired with the chain redrawn
    diff = np.subtract(errors["chain + generator share 0.5"], errors["chain + generator share 0"])
    line = next(line for line in more.stdout.splitlines() if line.startswith(f"| {name} | Protractor | 5 |"))
    assert line.split(" | ")[5].startswith(f"{diff.mean():+.4f} ± {2 * diff.std(ddof=1) / np.sqrt(5):.4f}")
    assert line.split(" | ")[6] == "n/a"  # share 0.25 not measured
    summary = _run([sys.executable, "-m", "benchmarks.checkpoint_options", "--summary", str(out / f"{name}.json")],
                   capsys)
    assert summary.returncode == 0 and line in summary.stdout.splitlines()  # the table again, from the file
    versus = _run([sys.executable, "-m", "benchmarks.checkpoint_options", "--summary", "--versus",
                   "½ chain + ½ generator → chain", str(out / f"{name}.json")], capsys)
    assert versus.returncode == 0 and "| ½ chain + ½ generator → chain − chain, second draws |" in versus.stdout
    diff = np.subtract(errors["½ chain + ½ generator → chain"], errors["chain + generator share 0"])
    wider = next(line for line in versus.stdout.splitlines() if line.startswith(f"| {name} | Protractor | 5 |"))
    assert wider.startswith(line[:-1])  # the same table, a column more: the option against the chain of its draws
    assert wider.split(" | ")[-1].startswith(f"{diff.mean():+.4f} ± {2 * diff.std(ddof=1) / np.sqrt(5):.4f}")
    (tmp_path / "other.json").write_text("{}")
    missing = subprocess.run([*command[:3], str(tmp_path / "none.pt"), *command[4:]], cwd=ROOT, capture_output=True,
                             text=True)  # one refusal as a user meets it; the others in this process
    assert missing.returncode == 1 and "none.pt: no such checkpoint file" in missing.stderr
    flags = command[3:]
    for argv, message in ((["--summary", str(tmp_path / "other.json")], "--summary: not a result file of this benchmark"),
                          (["--summary", str(tmp_path / "gone.json")], "gone.json: no such result file"),
                          ([*flags, "--options=spread wide"], "--options: unknown option 'spread wide'"),
                          ([*flags, "--counts=0"], "--counts takes positive whole numbers"),
                          ([*flags, "--learned-steps=0"], "--learned-steps takes N >= 1"),
                          ([*flags, "--seeds=1"], "--seeds takes N >= 2"),
                          ([*flags, "--seeds=3", "--learned-seeds=4"], "--learned-seeds takes 0 to the number of seeds (3)"),
                          ([*flags, "--counts=8"], "measured at --counts=4; ask for those, or give another --out"),
                          ([str(path)], "give --options and --out (or --summary with result files)")):
        assert message in _refusal("checkpoint_options", argv)
    alone = _run([*command[:-1], "--options=vetted generator 1", "--seeds=3", "--learned-seeds=0"], capsys)
    assert alone.returncode == 0, alone.stderr[-2000:]
    one_nn = json.loads((out / f"{name}-seeds-3-learned-0.json").read_text())["study"]
    assert one_nn["learned"] is None and "GRU" not in alone.stdout  # the 1-NN recogniser alone
    assert [r["added"] for r in one_nn["rows"]][-1] == "vetted generator 1" and len(one_nn["rows"][-1]["errors"]) == 3
    chained = {r["added"]: r["errors"] for r in one_nn["rows"]}["chain"]
    assert chained == {r["added"]: r["errors"] for r in result["study"]["rows"]}["chain"][:3]  # the same first seeds


def test_new_options_join_a_fold_measured_before_and_keep_its_rows():
    """merged_study(only=...): the new option rows are added as named; the fold's rows stay; a new measurement whose
    real or simple rows differ is refused."""
    options = _import_benchmark("augmentation_options")

    def row(added, errors):
        return {"added": added, "per_class": 160, "errors": errors, "error": {"mean": sum(errors) / len(errors)},
                "reduction": {"mean": 0.0}}

    fold = {"real_errors": [0.1], "rows": [row("gpsr", [0.05]), row("chain", [0.04]), row("generator", [0.2]),
                                           row("filtered generator", [0.3])]}
    new = {"real_errors": [0.1], "rows": [row("gpsr", [0.05]), row("chain", [0.04]), row("generator", [0.2]),
                                          row("near seen 0.5 → chain", [0.03])]}
    into = {**fold, "learned": fold}
    merged = options.merged_study(into, {**new, "learned": new}, "learned", "", Path("f"), only={"near seen 0.5 → chain"})
    assert [r["added"] for r in merged["learned"]["rows"]] == ["gpsr", "chain", "generator", "filtered generator",
                                                              "near seen 0.5 → chain"]
    assert merged["rows"] == fold["rows"]  # the other recogniser's part is untouched
    stale = {**new, "rows": [row("gpsr", [0.06]), *new["rows"][1:]]}
    with pytest.raises(SystemExit, match="differ from a new measurement"):
        options.merged_study(into, stale, "", "", Path("f"), only={"near seen 0.5 → chain"})


def _import_benchmark(name):
    return importlib.import_module(f"benchmarks.{name}")


def _refusal(name: str, argv: list[str]) -> str:
    """The one-line message a benchmark's `main` stops with for `argv`, run in this process (its command prints it
    and exits with status 1: `SystemExit(message)`); spares a fresh interpreter per wrong flag."""
    saved = sys.argv
    sys.argv = [f"benchmarks/{name}.py", *argv]
    try:
        with pytest.raises(SystemExit) as stopped:
            _import_benchmark(name).main()
    finally:
        sys.argv = saved
    assert isinstance(stopped.value.code, str), stopped.value.code  # a message, so status 1
    return stopped.value.code


def test_interleave_alternates_the_two_sets_within_each_class():
    augmentation_options = _import_benchmark("augmentation_options")
    k, labels = 4, np.repeat(np.arange(2), 4)
    first = (np.arange(8, dtype=float).reshape(8, 1, 1), labels)
    second = (100 + np.arange(8, dtype=float).reshape(8, 1, 1), labels)
    merged, merged_labels = augmentation_options.interleave(first, second, k)
    assert merged[:, 0, 0].tolist() == [0, 100, 1, 101, 4, 104, 5, 105] and merged_labels.tolist() == labels.tolist()
    quarter, _ = augmentation_options.interleave(first, second, k, share=0.25)
    assert quarter[:, 0, 0].tolist() == [0, 1, 2, 100, 4, 5, 6, 104]
    for share in (0.0, 0.25, 0.5, 0.75, 1.0):  # the first k' of a class hold ⌊k'·share⌋ of the second set
        eight = (np.arange(16.0).reshape(16, 1, 1), np.repeat(np.arange(2), 8))
        merged, _ = augmentation_options.interleave(eight, (100 + eight[0], eight[1]), 8, share)
        for head in range(9):
            assert (merged[:head, 0, 0] >= 100).sum() == int(head * share), (share, head)
    lines = (np.zeros((2, 3, 2)), np.arange(2))  # 3 points against a second set of 5: resampled along the path
    longer = (np.stack([np.linspace(0, 1, 5)] * 2, axis=-1)[None].repeat(2, 0), np.arange(2))
    merged, _ = augmentation_options.interleave(lines, longer, 1, share=1.0)
    assert merged.shape == (2, 3, 2) and merged[0, :, 0].tolist() == [0.0, 0.5, 1.0]


def test_augmentation_options_train_and_measure_a_variant_once(tmp_path, shared_data, capsys):
    """--variant trains a generator per fold with the fold's flags plus its own, and adds its rows, named for it."""
    from deepnag import checkpoint

    fold = tmp_path / "dollar-gds-w2-f0"
    fold.mkdir()
    (fold / "result.json").write_text(json.dumps({
        "dataset": "dollar-gds", "writers": 2, "fold": 0, "epochs": 1, "budget": "5m", "subjects": ["s02", "s03"],
        "train_flags": "--classes=arrow,star --resample-n=12 --batch-size=16 --epochs=1 --vis-frequency=0",
        "study": {"rows": [], "real_error": 0.1, "recognizer": "Protractor", "tstr_heldout_accuracy": 0.5}}))
    base = [sys.executable, "-m", "benchmarks.augmentation_options", f"--out={tmp_path}", f"--datapath={shared_data}"]

    def run(name, flags, options):
        return _run([*base, f"--variant={name}", f"--variant-flags={flags}", f"--options={options}"], capsys)

    first = run("weighted", "--diversity-weight=3", "generator share 0.25")
    assert first.returncode == 0, first.stderr[-2000:]
    assert "dollar-gds-w2-f0: training variant weighted (--diversity-weight=3)" in first.stdout
    trained = json.loads((fold / "variants" / "weighted" / "trained.json").read_text())
    state = checkpoint.load(fold / "variants" / "weighted" / trained["checkpoint"])
    assert state["config"]["diversity_weight"] == 3.0 and state["config"]["epochs"] == 1
    assert state["config"]["subjects"] == ["s02", "s03"] and state["config"]["classes"] == ["arrow", "star"]
    result = json.loads((fold / "options.json").read_text())
    kinds = list(dict.fromkeys(row["added"] for row in result["study"]["rows"]))
    assert kinds == ["gpsr", "chain", "generator [weighted]", "both (½ + ½) [weighted]", "½ chain ½ gen [weighted]",
                     "generator share 0.25 [weighted]"]
    assert result["variants"]["weighted"]["flags"] == "--diversity-weight=3"
    assert result["study"]["real_error"] == 0.1  # the fold's own study is kept; rows are added to it
    again = run("weighted", "--diversity-weight=3", "generator share 0.25")
    assert again.returncode == 0 and "dollar-gds-w2-f0:" not in again.stdout  # trained and measured once
    other = run("weighted", "--diversity-weight=2", "generator share 0.25")
    assert other.returncode == 1 and "trained with --variant-flags='--diversity-weight=3', not '--diversity-weight=2'" \
        in other.stderr
    missing = run("seeded", "--seed=7", "ensemble with nowhere")
    assert missing.returncode == 1 and "ensemble with nowhere:" in missing.stderr and "no trained generator" in missing.stderr
    alone = _run([*base, "--variant=seeded"], capsys)
    assert alone.returncode == 1 and "--variant NAME" in alone.stderr and "--variant-flags FLAGS go together" in alone.stderr
    _an_ensemble_takes_half_of_each_class_from_each_generator(fold)


def _an_ensemble_takes_half_of_each_class_from_each_generator(fold):
    from deepnag.generate.sampling import generate_per_class
    options = _import_benchmark("augmentation_options")
    state, generator = options.trained_variant(fold, "weighted")
    other_state, shifted = options.trained_variant(fold, "weighted")
    with torch.no_grad():  # a second, different generator: the same weights shifted, so the halves are told apart
        for p in shifted.parameters():
            p.add_(0.5)
    make = options.options_for(state, generator, ["ensemble with x"], lambda name: (other_state, shifted))
    merged, labels = make["ensemble with x"]([], np.array([]))(4, 5)
    own, _ = generate_per_class(state, generator, 4, 5)
    theirs, _ = generate_per_class(other_state, shifted, 4, 5)
    assert labels.tolist() == [0, 0, 0, 0, 1, 1, 1, 1]
    for c in range(2):
        block = slice(4 * c, 4 * c + 4)
        assert np.array_equal(merged[block][0::2], own[block][:2]) and np.array_equal(merged[block][1::2], theirs[block][:2])
    assert not np.allclose(own, theirs)


def test_the_metrics_table_reads_every_recogniser_and_marks_what_every_seed_agrees_on(tmp_path):
    """One row per recogniser, mean ± sd at the count asked for; ▼ / ▲ only when every seed is below / above."""
    from benchmarks import metrics_table

    def row(added, errors, real):
        reductions = [(r - e) / r for e, r in zip(errors, real)]
        return {"added": added, "per_class": 160, "errors": errors,
                "error": {"mean": float(np.mean(errors)), "sd": float(np.std(errors, ddof=1)) if len(errors) > 1 else 0.0},
                "reduction": {"min": min(reductions), "max": max(reductions)}}

    real = [0.10, 0.20]
    learned = {"recognizer": "GRURecognizer", "real_errors": real,
               "rows": [row("gpsr", [0.05, 0.15], real), row("chain", [0.20, 0.30], real),
                        row("chain+generator", [0.05, 0.25], real), {**row("gpsr", [0.9, 0.9], real), "per_class": 8}]}
    study = {"recognizer": "Protractor", "real_errors": [0.04], "rows": [row("generator", [0.02], [0.04])],
             "learned": learned, "leak": None}
    path = tmp_path / "dollar-gds-2-writers.metrics.json"
    path.write_text(json.dumps({"augmentation": study}))
    assert metrics_table.table([path], 160).splitlines()[2:] == [
        "| dollar-gds-2-writers | Protractor | 0.040 | — | — | 0.020 ▼ | — | — |",
        "| dollar-gds-2-writers | GRURecognizer | 0.150 ± 0.071 | 0.100 ± 0.071 ▼ | 0.250 ± 0.071 ▲ | — | — "
        "| 0.150 ± 0.141 |"]
    with pytest.raises(SystemExit, match="no rows at 32 added per class"):
        metrics_table.table([path], 32)
    fold = tmp_path / "dollar-gds-w5-f1"  # a checkpoint_options result: named for its fold, options as columns
    fold.mkdir()
    vetted = row("½ chain + ½ vetted generator 0.8", [0.30, 0.10], real)
    (fold / "run.json").write_text(json.dumps({"study": {**study, "learned": {**learned, "rows": [vetted]}}}))
    assert metrics_table.table([fold / "run.json"], 160, ("½ chain + ½ vetted generator 0.8",), tally=True
                               ).splitlines()[2:] == [
        "| dollar-gds-w5-f1 | Protractor | 0.040 | — | — | 0.020 ▼ (1↓ 0↑) | — | — | — |",
        "| dollar-gds-w5-f1 | GRURecognizer | 0.150 ± 0.071 | — | — | — | — | — | 0.200 ± 0.141 (1↓ 1↑) |"]
    study["rows"].append(row("chain+vetted", [0.03], [0.04]))  # a file of the former names: the vetted mix's column
    path.write_text(json.dumps({"augmentation": study}))
    lines = metrics_table.table([path], 160).splitlines()
    assert lines[0].endswith("| + chain-mix | + vetted-chain-mix |")  # read from files of the former names
    assert lines[2] == "| dollar-gds-2-writers | Protractor | 0.040 | — | — | 0.020 ▼ | — | — | 0.030 ▼ |"
    path.write_text(json.dumps({"augmentation": {**study, "leak": "every writer"}}))
    with pytest.raises(SystemExit, match="saw every writer"):
        metrics_table.table([path], 160)


def test_the_realism_benchmark_loads_each_shipped_generator_once_and_samples_every_class(shared_data, monkeypatch):
    from benchmarks import realism
    from deepnag.data import load_raw

    loaded = []
    original = realism.load_generator
    monkeypatch.setattr(realism, "load_generator", lambda state, path: loaded.append(path) or original(state, path))
    real = load_raw("jk2017-leap", shared_data)
    samplers = realism.samplers("jk2017-leap", real)
    assert list(samplers) == [*realism.models("jk2017-leap"), "gpsr", "chain"]
    assert sorted(loaded) == sorted(str(path) for path in realism.models("jk2017-leap").values())
    for name, sample in samplers.items():
        first = sample(2, 5)
        assert len(first) == 2 * len(real.class_names) and first[0].shape[1] == real.sequences[0].shape[1], name
        np.testing.assert_array_equal(first[0], sample(2, 5)[0])
    assert len(loaded) == len(realism.models("jk2017-leap"))  # sampling loaded nothing more


def test_drawing_orders_code_each_stroke_by_its_turn_or_its_direction_on_screen(shared_data, tmp_path, capsys):
    from benchmarks import mmg_drawing_orders as orders

    square = np.array([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0.1]], dtype=float)  # right, down, left, up on screen (y down)
    assert orders.stroke_code(square) == "cw" and orders.stroke_code(square[::-1]) == "ccw"
    assert orders.stroke_code(np.array([[3.0, 4.0], [3.0, 4.0]])) == orders.stroke_code(np.array([[3.0, 4.0]])) == "dot"
    lines = {"E": [[0, 0], [10, 1]], "S": [[0, 0], [1, 10]], "W": [[10, 0], [0, 1]], "N": [[0, 10], [1, 0]]}
    assert {code: orders.stroke_code(np.array(points, dtype=float)) for code, points in lines.items()} == {
        code: code for code in lines}
    two = np.array([[0, 0, 1], [10, 0, 1], [0, 0, 0], [0, 10, 1]], dtype=float)  # pen state 0: a new stroke starts
    assert orders.drawing_order(two) == "E S"
    assert orders.rank_correlation(np.arange(5.0), np.arange(5.0) ** 2) == pytest.approx(1.0)
    metrics = tmp_path / "metrics.json"
    metrics.write_text(json.dumps({"tstr_accuracy_per_class": [i / 16 for i in range(16)]}))
    result = orders.main([f"--datapath={shared_data}", f"--metrics={metrics}", f"--out={tmp_path / 'out.json'}"])
    assert json.loads((tmp_path / "out.json").read_text()) == result
    line = next(r for r in result["classes"] if r["class"] == "line")
    assert line["samples"] >= sum(count for _, count in line["most_common"]) and line["orders"] >= len(line["most_common"])
    assert line["most_common"][0][0] == "E" and line["top_share"] > 0.9 and line["tstr"] == 12 / 16
    assert sum(r["samples"] for r in result["classes"]) == 3043
    assert "| line | " in capsys.readouterr().out and -1 <= result["rank_correlation"] <= 1


def test_stroke_order_measures_each_class_of_a_checkpoint_over_seeds(mmg_data, tmp_path, capsys):
    from benchmarks import stroke_order
    from deepnag import checkpoint as ckpt
    from deepnag.data import load_raw
    from deepnag.generate.sampling import generate_per_class, load_generator
    from deepnag.recognition.dollar_p import DollarP

    logdir = tmp_path / "logs"
    assert main.main(tiny("--dataset=mmg", f"--datapath={mmg_data}", "--classes=line,X", "--max-per-class=4",
                          "--resample-n=16", "--stroke-order=canonical", "--epochs=1", f"--logdir={logdir}")) == 0
    path = next(logdir.glob("*/checkpoints/checkpoint-final.pt"))
    (result,) = stroke_order.main([str(path), f"--datapath={mmg_data}", "--seeds=2", "--per-class=2",
                                   f"--out={tmp_path / 'out.json'}"])
    assert result["stroke_order"] == "canonical" and result["classes"] == ["X", "line"] and result["epoch"] == 1
    state = ckpt.load(path)
    real = load_raw("mmg", mmg_data).select(("X", "line"))
    assert real.class_names == ("X", "line")
    fake, labels = generate_per_class(state, load_generator(state, str(path)), 2, 2)  # the second seed
    predicted = DollarP().fit(list(fake), labels).predict(list(real.sequences))
    expected = [np.mean(predicted[real.labels == c] == c) for c in (0, 1)]
    assert np.asarray(result["accuracy"]).shape == (2, 2) and result["accuracy"][1] == pytest.approx(expected)
    assert json.loads((tmp_path / "out.json").read_text())["results"] == [result]
    assert "canonical epoch    1: X " in capsys.readouterr().out
