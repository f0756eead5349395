"""Realism by a machine (#51): the classifier two-sample test of `--metrics` on the shipped generators and the simple
synthesizers, to see whether it orders them as the paper's people did (DeepNAG's gestures pass for real more often
than DeepGAN's).

    python -m benchmarks.realism --datapath=../shared/data --seeds=3 --out=benchmarks/results/realism/realism.json

For each data set: the discriminator's held-out accuracy (`two_sample.discriminator_accuracy`: real samples of half
the writers against as many synthetic ones, tested on the other writers and the other synthetic half) for every
shipped model of the data set ("DeepNAG" and "DeepGAN" the full-data ones, "DeepNAG 2-writers" those in
`pretrained_models/DeepNAG/<data set>-2-writers`, and so on), GPSR's and the chain's variants of the real samples,
and two random halves of the real samples (the floor); mean and sd over seeds, each seed its own draw, split and
discriminator. Lower is more realistic; 0.5 is indistinguishable. Sources run interleaved within each seed.
Resumable: results are appended to OUT per (data set, source, seed) and skipped when present.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any, Callable

import numpy as np

from deepnag import checkpoint
from deepnag.data import chain, gpsr, load_raw
from deepnag.evaluation.two_sample import discriminator_accuracy
from deepnag.generate.sampling import generate_per_class, load_generator

ROOT = Path(__file__).resolve().parents[1]
DATASETS = ("dollar-gds", "jk2017-kinect", "jk2017-leap", "mmg")
"""The data sets with a shipped model."""


def models(dataset: str) -> dict[str, Path]:
    """The shipped generators of `dataset` by source name: "DeepNAG" for `pretrained_models/DeepNAG/<dataset>`,
    "DeepNAG 2-writers" for `pretrained_models/DeepNAG/<dataset>-2-writers`, and so on."""
    found = {}
    for kind in ("DeepNAG", "DeepGAN"):
        for folder in sorted((ROOT / "pretrained_models" / kind).glob(f"{dataset}*")):
            suffix = folder.name[len(dataset):]  # "", or "-2-writers" …; no data set's name starts another's
            if (folder / "generator.pt").is_file() and (suffix == "" or suffix.startswith("-")):
                found[f"{kind} {suffix[1:]}".strip()] = folder / "generator.pt"
    return found


Sampler = Callable[[int, int], list[np.ndarray]]
"""(samples per class, seed) -> that many samples of every class."""


def samplers(dataset: str, real: Any) -> dict[str, Sampler]:
    """Every synthetic source of `dataset` by name: its shipped generators (each loaded once), GPSR and the chain."""
    found: dict[str, Sampler] = {}
    for name, path in models(dataset).items():
        state = checkpoint.load(path)
        generator = load_generator(state, str(path))
        found[name] = lambda per_class, seed, state=state, generator=generator: list(
            generate_per_class(state, generator, per_class, seed)[0])
    for name, make in (("gpsr", gpsr.per_class), ("chain", chain.per_class)):
        found[name] = lambda per_class, seed, make=make: list(make(
            real.sequences, real.labels, per_class, np.random.default_rng(seed), len(real.class_names))[0])
    return found


def accuracy(sampler: Sampler | None, real: Any, seed: int) -> float:
    """One seed's discriminator accuracy of `sampler`'s samples against the real ones (None: two real halves)."""
    subjects = np.asarray(real.subjects)
    if sampler is None:
        halves = np.random.default_rng([seed, 3]).permutation(len(real.labels))
        first, second = halves[: len(halves) // 2], halves[len(halves) // 2:]
        return discriminator_accuracy([real.sequences[i] for i in first], subjects[first],
                                      [real.sequences[i] for i in second], seed)
    per_class = int(np.ceil(len(real.labels) / len(real.class_names)))
    return discriminator_accuracy(real.sequences, subjects, sampler(per_class, seed), seed)


def summary(results: list[dict[str, Any]]) -> str:
    """Markdown: per data set, each source's mean ± sd accuracy over seeds, and the seeds."""
    lines = ["| data set | source | accuracy (mean ± sd) | seeds |", "|---|---|---|---|"]
    for dataset in dict.fromkeys(r["dataset"] for r in results):
        for source in dict.fromkeys(r["source"] for r in results if r["dataset"] == dataset):
            values = [r["accuracy"] for r in results if r["dataset"] == dataset and r["source"] == source]
            sd = np.std(values, ddof=1) if len(values) > 1 else 0.0
            lines.append(f"| {dataset} | {source} | {np.mean(values):.3f} ± {sd:.3f} | {len(values)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--datasets", nargs="+", default=list(DATASETS))
    parser.add_argument("--seeds", type=int, default=3)
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "realism" / "realism.json")
    args = parser.parse_args(argv)
    results = json.loads(args.out.read_text()) if args.out.exists() else []
    done = {(r["dataset"], r["source"], r["seed"]) for r in results}
    for dataset in args.datasets:
        real = load_raw(dataset, args.datapath)
        sources = {**samplers(dataset, real), "real": None}
        for seed in range(args.seeds):
            for source, sampler in sources.items():
                if (dataset, source, seed) in done:
                    continue
                started = time.perf_counter()
                value = accuracy(sampler, real, seed)
                results.append({"dataset": dataset, "source": source, "seed": seed, "accuracy": value,
                                "seconds": round(time.perf_counter() - started, 1)})
                print(f"{dataset:<16}{source:<26}seed {seed}  accuracy {value:.3f}", flush=True)
                args.out.parent.mkdir(parents=True, exist_ok=True)
                args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(summary(results))


if __name__ == "__main__":
    main()
