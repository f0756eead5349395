"""Other ways of sampling a trained generator, measured on held-out writers beside GPSR (#22's post-hoc options).

    python -m benchmarks.augmentation_options --out benchmarks/results/augmentation/fast
    python -m benchmarks.augmentation_options --out OUT --options "generator → GPSR,spread 1.5"

Takes the folds that `benchmarks/augmentation.py` trained in `--out` (each
`<dataset>-w<w>-f<f>/` with its result.json and the generator checkpoint under
logs/) and runs the product's held-out study again (the same seeds, so the same
GPSR draws and real-alone error) with one more row kind per option:

- `generator → GPSR`: one GPSR variant of each generator sample (GPSR's
  resampling noise on top of the generator's variety);
- `½ GPSR + ½ generator → GPSR`: half of each class GPSR of the real samples,
  half the option above;
- `generator share P`: a share P of each class the generator's samples, the
  rest GPSR of the real samples (P = 0.5 is the study's own "both");
- `filtered generator`: the generator's samples that the seen writers' own
  recogniser (their real samples, 1-NN) puts in the class they were drawn for,
  from a pool of FILTER_POOL times as many (the rest fill a class short of
  them); `½ GPSR + ½ filtered generator` mixes them with GPSR of the real samples;
- `generator → chain`: one chained variant (`deepnag.data.chain`) of each generator sample;
  `½ chain + ½ filtered generator`: half of each class the chain of the real samples, half the
  filtered generator's;
- `GRU-filtered generator`: as `filtered generator`, the judge the learned recogniser fitted on the seen
  writers' real samples (the sampling seed its training seed); `½ chain + ½ GRU-filtered generator`;
- `near seen S`: neighbours of the seen writers' own samples: each sample's
  latent found by optimisation, then G(z + S·ε) (`benchmarks/inversion.py`);
  `near seen S → chain`: one chained variant of each such neighbour (the chain's
  transformations acting on new shapes of the seen writers' style);
  `½ chain + ½ near seen S → chain`: half of each class the chain of the real samples, half that;
- `chain + generator share P`: a share P of each class the generator's samples, the rest the chain of the
  real samples (P = 0.5 is the study's own "½ chain ½ gen" on another stream of chain draws; P = 0, the chain
  alone on that stream, shows how much two draws of the chain differ);
  `½ chain + ½ generator → chain`: half of each class the chain of the real samples, half `generator → chain`;
- `vetted generator R`: the generator's samples vetted by the seen writers' 1-NN recogniser
  (`deepnag.generate.vetting`: of POOL times as many drawn, those nearer their own class's real samples than
  R times any other class's; one draw and its margins shared by every R), a class left short filled with chained variants of its real samples (a stream of its
  own); `½ chain + ½ vetted generator R`: half of each class the chain of the real samples, half that;
  `[½ chain + ½ ]vetted generator R → chain`: the same with one chained variant of each vetted generator sample
  (the chain's transformations acting on the generator's shapes; the fill is chained already);
- `spread S`: the generator's samples from a wider latent, N(0, S²) instead of
  N(0, 1) (`deepnag.generate.sampling.generate`'s `spread`); `½ chain + ½ spread S`: half of each class the
  chain of the real samples, half that.

- `ensemble with V`: half of each class this generator's samples, half those of
  variant V's generator (below): two generators trained from different seeds.

Nothing is trained, except with `--variant NAME --variant-flags FLAGS`: then each
fold also trains a generator of its own writers with the fold's training flags
plus FLAGS (e.g. `--diversity-weight=3`, `--seed=1235`) into
`<fold>/variants/NAME/logs`, and measures that generator instead, its rows
named `generator [NAME]`, `both (½ + ½) [NAME]`, `<option> [NAME]`.

    python -m benchmarks.augmentation_options --out OUT --folds "dollar-gds-w2-*" \
        --variant diversity-3 --variant-flags=--diversity-weight=3 --options "generator share 0.25"

Resumable: each fold writes `options.json` beside its result.json (atomically)
and is skipped once it has every option asked for; a variant's finished
training is kept.
The summary (`OUT/options.md`) has the same shape as augmentation.py's, with a
paired "option − GPSR" line per count.
"""

from __future__ import annotations

import argparse
import fnmatch
import hashlib
import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent

from benchmarks import augmentation as benchmark
from benchmarks.inversion import Neighbourhood
from deepnag import checkpoint
from deepnag.atomic import atomic_write
from deepnag.data import chain, gpsr, load_raw
from deepnag.data.preprocessing import resample
from deepnag.evaluation.augmentation import COUNTS, SIMPLE, Synthesize, versus_best_simple, versus_gpsr
from deepnag.evaluation.report import held_out
from deepnag.generate.sampling import generate_per_class, load_generator, normalizer_from
from deepnag.generate.vetting import filled, first_below, judged, margins
from deepnag.recognition.gru_recognizer import GRURecognizer

OPTIONS = ("generator → GPSR", "½ GPSR + ½ generator → GPSR", "spread 1.5", "spread 2",
           "generator share 0.25", "generator share 0.75", "near seen 0.5",
           "filtered generator", "½ GPSR + ½ filtered generator")
LEARNED_OPTIONS = ("generator → chain", "filtered generator", "GRU-filtered generator", "½ chain + ½ filtered generator",
                   "½ chain + ½ GRU-filtered generator")
"""What `--learned-seeds` measures by default: the ways toward a generator that helps a learned recogniser."""
FILTER_POOL = 2  # candidates drawn per kept sample of `filtered generator`
CHAIN_STREAM = 30_011  # offset of the chain-on-generator and chain-of-real streams from the sampling seed
GPSR_STREAM = 10_007  # offset of the GPSR-on-generator stream from the sampling seed (apart from the study's own)

Make = Callable[[list[np.ndarray], np.ndarray], Synthesize]


def interleave(first: tuple[np.ndarray, np.ndarray], second: tuple[np.ndarray, np.ndarray], k: int,
               share: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Two class-major sets of k per class merged class-major, `second` spread evenly at `share` within each class.

    So the first k' of a class are ⌊k'·share⌋ of `second` and the rest of `first`, as the study's counts need
    (share ½: alternating, first, second, first, …). `second` is resampled along its path to `first`'s
    number of points when they differ (the recognisers resample every sample anyway).
    """
    a, labels = first
    b, _ = second
    if b.shape[1] != a.shape[1]:
        b = resample(b, a.shape[1]).astype(a.dtype)
    classes = len(labels) // k
    j = np.arange(k)
    before = np.floor(j * share + 1e-9).astype(np.int64)  # seconds before position j
    from_second = np.floor((j + 1) * share + 1e-9).astype(np.int64) > before
    take = np.where(from_second, before, j - before)  # within-class index into the set position j comes from
    rows = (np.arange(classes)[:, None] * k + take[None, :]).reshape(-1)
    return np.where(np.tile(~from_second, classes)[:, None, None], a[rows], b[rows]), labels


class _Options:
    """The makers of the named options for one checkpoint, built from the seen writers' real samples.

    Generating is the slow part (a few thousand sequences through the GRU per seed), so the options share one draw
    of the generator per (kind, count, seed) and one filtered set, keeping only the current seed's.
    """

    def __init__(self, state: dict[str, Any], generator: Any,
                 others: Callable[[str], tuple[dict[str, Any], Any]] | None) -> None:
        self.state, self.generator, self.others = state, generator, others
        self.classes = len(state["class_names"])
        self.drawn: dict[tuple[str, int, int], tuple[np.ndarray, ...]] = {}
        self.neighbourhoods: dict[bytes, Neighbourhood] = {}

    def neighbourhood(self, seen: list[np.ndarray], labels: np.ndarray) -> Neighbourhood:
        """The seen samples' latents, searched once for every `near seen` option (the search is the slow part)."""
        key = hashlib.sha256(b"".join([np.asarray(labels, np.int64).tobytes(),
                                       *(np.ascontiguousarray(s, np.float64).tobytes() for s in seen)])).digest()
        if key not in self.neighbourhoods:
            self.neighbourhoods[key] = Neighbourhood(self.generator, normalizer_from(self.state), seen, labels,
                                                     self.classes, int(self.state["seq_len"]))
        return self.neighbourhoods[key]

    def once(self, kind: str, k: int, seed: int, make: Callable[[], tuple[np.ndarray, ...]]) -> tuple[np.ndarray, ...]:
        for key in [key for key in self.drawn if key[2] != seed]:
            del self.drawn[key]  # the study goes seed by seed: earlier seeds' samples are not asked for again
        if (kind, k, seed) not in self.drawn:
            self.drawn[(kind, k, seed)] = make()
        return self.drawn[(kind, k, seed)]

    def draw(self, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return self.once("generator", k, seed, lambda: generate_per_class(self.state, self.generator, k, seed))

    def real_gpsr(self, seen: list[np.ndarray], labels: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return gpsr.per_class(seen, labels, k, np.random.default_rng(seed + 2 * GPSR_STREAM), self.classes)

    def real_chain(self, seen: list[np.ndarray], labels: np.ndarray, k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
        return chain.per_class(seen, labels, k, np.random.default_rng(seed + 2 * CHAIN_STREAM), self.classes)

    def half_chain(self, synthesize: Synthesize) -> Make:
        """½ chain of the real samples + ½ `synthesize`, interleaved."""
        return lambda seen, labels: lambda k, seed: interleave(self.real_chain(seen, labels, k, seed),
                                                               synthesize(k, seed), k)

    def through(self, module: Any, stream: int) -> Synthesize:
        """The generator's samples, each once through GPSR or the chain (`module`), on a stream of their own."""
        def drawn(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
            samples, labels = self.draw(k, seed)
            return module.variants(list(samples), np.random.default_rng(seed + stream)), labels
        return drawn

    def sampled(self, spread: float, half_chain: bool = False) -> Make:
        def wider(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
            return generate_per_class(self.state, self.generator, k, seed, spread)
        return self.half_chain(wider) if half_chain else lambda seen, labels: wider

    def near(self, spread: float, chained: bool = False, half_chain: bool = False) -> Make:
        def make(seen: list[np.ndarray], labels: np.ndarray) -> Synthesize:
            found = self.neighbourhood(seen, labels)

            def neighbours(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
                samples, classes = self.once(f"near seen {spread}", k, seed, lambda: found.per_class(k, seed, spread))
                if not chained:
                    return samples, classes
                return chain.variants(list(samples), np.random.default_rng(seed + CHAIN_STREAM)), classes

            return self.half_chain(neighbours)(seen, labels) if half_chain else neighbours
        return make

    def share(self, fraction: float, real: Callable[..., tuple[np.ndarray, np.ndarray]]) -> Make:
        return lambda seen, labels: lambda k, seed: interleave(real(seen, labels, k, seed), self.draw(k, seed), k,
                                                               fraction)

    def kept(self, seen: list[np.ndarray], labels: np.ndarray, judge: str = "1-NN") -> Synthesize:
        """The generator's samples its judge puts in their class first (`FILTER_POOL` drawn per sample kept)."""
        def rejected(pool: np.ndarray, pool_labels: np.ndarray, seed: int) -> np.ndarray:
            if judge == "GRU":
                return GRURecognizer(random_state=seed).fit(seen, labels).predict(list(pool)) != pool_labels
            return margins(list(pool), pool_labels, seen, labels, self.classes) >= 1  # the 1-NN puts it elsewhere

        def filtered(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
            pool, pool_labels = generate_per_class(self.state, self.generator, FILTER_POOL * k, seed)
            wrong = rejected(pool, pool_labels, seed).reshape(self.classes, FILTER_POOL * k)
            order = np.argsort(wrong, axis=1, kind="stable")[:, :k]  # the right ones first, in the order drawn
            rows = (np.arange(self.classes)[:, None] * FILTER_POOL * k + order).reshape(-1)
            return pool[rows], pool_labels[rows]
        return lambda k, seed: self.once(f"filtered by {judge}", k, seed, lambda: filtered(k, seed))

    def kept_mixed(self, seen: list[np.ndarray], labels: np.ndarray) -> Synthesize:
        filtered = self.kept(seen, labels)
        return lambda k, seed: interleave(self.real_gpsr(seen, labels, k, seed), filtered(k, seed), k)

    def chain_mixed(self, judge: str) -> Make:
        return lambda seen, labels: self.half_chain(self.kept(seen, labels, judge))(seen, labels)

    def vetted(self, margin: float, half_chain: bool, chained: bool = False) -> Make:
        def make(seen: list[np.ndarray], labels: np.ndarray) -> Synthesize:
            def kept(k: int, seed: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
                pool, pool_labels, found = self.once(f"vetting pool {id(seen)}", k, seed,
                                                     lambda: judged(self.state, self.generator, k, seed, seen, labels))
                chosen = first_below(found, k, margin, self.classes)
                spare = chain.per_class(seen, labels, k, np.random.default_rng(seed + 3 * CHAIN_STREAM), self.classes)
                return filled((pool[chosen], pool_labels[chosen]), spare, k, self.classes)

            def drawn(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
                samples, kinds, short = self.once(f"vetted {margin}", k, seed, lambda: kept(k, seed))
                if not chained:
                    return samples, kinds
                through = chain.variants(list(samples), np.random.default_rng(seed + CHAIN_STREAM))
                generated = (np.arange(k)[None, :] < (k - short)[:, None]).reshape(-1)  # the fill is chained already
                if through.shape[1] != samples.shape[1]:
                    samples = resample(list(samples), through.shape[1])
                return np.where(generated[:, None, None], through, samples), kinds
            return self.half_chain(drawn)(seen, labels) if half_chain else drawn
        return make

    def ensemble(self, variant: str) -> Make:
        other_state, other = self.others(variant)

        def pair(k: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
            return interleave(self.draw(k, seed), self.once("other", k, seed,
                                                            lambda: generate_per_class(other_state, other, k, seed)), k)
        return lambda seen, labels: pair


NAMED: dict[str, Callable[[_Options], Make]] = {
    "generator → GPSR": lambda o: lambda seen, labels: o.through(gpsr, GPSR_STREAM),
    "½ GPSR + ½ generator → GPSR": lambda o: lambda seen, labels: lambda k, seed: interleave(
        o.real_gpsr(seen, labels, k, seed), o.through(gpsr, GPSR_STREAM)(k, seed), k),
    "filtered generator": lambda o: o.kept,
    "½ GPSR + ½ filtered generator": lambda o: o.kept_mixed,
    "generator → chain": lambda o: lambda seen, labels: o.through(chain, CHAIN_STREAM),
    "½ chain + ½ generator → chain": lambda o: o.half_chain(o.through(chain, CHAIN_STREAM)),
    "GRU-filtered generator": lambda o: lambda seen, labels: o.kept(seen, labels, "GRU"),
}
"""The options with one name: option → its maker, for one checkpoint's `_Options`."""

FAMILIES: list[tuple[str, Callable[[_Options, re.Match], Make]]] = [
    (r"½ chain \+ ½ (GRU-)?filtered generator", lambda o, m: o.chain_mixed("GRU" if m.group(1) else "1-NN")),
    (r"(½ chain \+ ½ )?vetted generator (\d+(?:\.\d+)?)( → chain)?",
     lambda o, m: o.vetted(float(m.group(2)), half_chain=bool(m.group(1)), chained=bool(m.group(3)))),
    (r"ensemble with (\S+)", lambda o, m: o.ensemble(m.group(1))),
    (r"(½ chain \+ ½ )?near seen (\d+(?:\.\d+)?)( → chain)?",
     lambda o, m: o.near(float(m.group(2)), chained=bool(m.group(3)), half_chain=bool(m.group(1)))),
    (r"(chain \+ )?generator share (0(?:\.\d+)?|1(?:\.0*)?)",
     lambda o, m: o.share(float(m.group(2)), o.real_chain if m.group(1) else o.real_gpsr)),
    (r"(½ chain \+ ½ )?spread (\d+(?:\.\d+)?)", lambda o, m: o.sampled(float(m.group(2)), half_chain=bool(m.group(1)))),
]
"""The options with a parameter: a pattern of names → its maker."""

UNKNOWN = ("(any [½ chain + ½ ]spread S, near seen S [→ chain], ½ chain + ½ near seen S → chain, [chain + ]generator "
           "share P in [0, 1], ½ chain + ½ generator → chain, [½ chain + ½ ]vetted generator R [→ chain], ensemble with "
           "VARIANT)")


def options_for(state: dict[str, Any], generator: Any, names: list[str],
                others: Callable[[str], tuple[dict[str, Any], Any]] | None = None) -> dict[str, Make]:
    """The named options as study variants (each built from the seen writers' real samples), looked up in `NAMED`
    and `FAMILIES`. `others(V)`: the checkpoint state and generator of the fold's variant V (for `ensemble with V`)."""
    options = _Options(state, generator, others)
    made: dict[str, Make] = {}
    for name in names:
        if name in NAMED:
            made[name] = NAMED[name](options)
            continue
        found = [(build, m) for pattern, build in FAMILIES if (m := re.fullmatch(pattern, name))
                 and (others is not None or not pattern.startswith("ensemble"))]
        if not found:
            raise SystemExit(f"--options: unknown option {name!r}; known: "
                             f"{', '.join(dict.fromkeys(OPTIONS + LEARNED_OPTIONS))} {UNKNOWN}")
        made[name] = found[0][0](options, found[0][1])
    return made


STUDY_NAMES = {"generator": "generator", "mix": "both (½ + ½)", "chain-mix": "½ chain ½ gen"}  # the study's own rows, as a variant's rows name them


def best_of(logs: Path) -> Path | None:
    """The best checkpoint a training run under `logs` wrote (None: none yet)."""
    found = sorted(logs.glob("*/checkpoints/checkpoint-best.pt"))
    return found[0] if found else None


def variant_checkpoint(folder: Path, result: dict[str, Any], datapath: str, name: str, flags: str,
                       threads: int = 0) -> Path:
    """The fold's variant `name`: a generator of the fold's writers, its flags plus `flags`, trained once."""
    home = folder / "variants" / name
    trained = home / "trained.json"
    if trained.is_file():
        return home / recorded_variant(folder, name, flags)["checkpoint"]
    print(f"{folder.name}: training variant {name} ({flags})", flush=True)
    best = benchmark.train(result["dataset"], datapath, result["subjects"], result["budget"], home, threads,
                           (*result.get("train_flags", "").split(), *flags.split()))
    record = {"flags": flags, "checkpoint": str(best.relative_to(home))}
    atomic_write(trained, lambda out: out.write((json.dumps(record) + "\n").encode()))
    return best


def recorded_variant(folder: Path, name: str, flags: str) -> dict[str, Any]:
    """What the fold's variant `name` was trained with ({} before it is); an error when not with `flags`."""
    trained = folder / "variants" / name / "trained.json"
    recorded = json.loads(trained.read_text()) if trained.is_file() else {}
    if recorded and recorded["flags"] != flags:
        raise SystemExit(f"{trained.parent}: trained with --variant-flags={recorded['flags']!r}, not {flags!r}; "
                         "pick another --variant name, or delete that folder to train it again")
    return recorded


def trained_variant(folder: Path, name: str) -> tuple[dict[str, Any], Any]:
    """The checkpoint state and generator of the fold's variant `name`, trained before."""
    trained = folder / "variants" / name / "trained.json"
    if not trained.is_file():
        raise SystemExit(f"ensemble with {name}: {trained.parent} has no trained generator; "
                         f"run --variant {name} with its --variant-flags first")
    path = trained.parent / json.loads(trained.read_text())["checkpoint"]
    state = checkpoint.load(path)
    return state, load_generator(state, str(path))


def fold_folders(out: str | Path, pattern: str = "*") -> list[Path]:
    """The fold folders (`<dataset>-w<w>-f<f>`) of an augmentation.py --out folder whose names match `pattern`."""
    return sorted(p for p in Path(out).glob("*") if p.is_dir() and re.fullmatch(r".+-w\d+-f\d+", p.name)
                  and fnmatch.fnmatch(p.name, pattern))


def fold_inputs(found: Path, dataset: str, datapath: str) -> tuple[dict[str, Any], Any, Any, tuple[np.ndarray, np.ndarray]]:
    """What a fold's study needs of its checkpoint: its state and generator, every real sample of its classes, and
    the samples of the held-out TSTR figure."""
    state = checkpoint.load(found)
    generator = load_generator(state, str(found))
    every = load_raw(dataset, datapath).select(checkpoint.config_of(state).classes)
    return state, generator, every, generate_per_class(state, generator, benchmark.TSTR_PER_CLASS, 0)


def run_fold(folder: Path, datapath: str, names: list[str], variant: str = "", variant_flags: str = ""
             ) -> dict[str, Any] | None:
    """The fold's result with its study extended by the options (None: the fold has no result or checkpoint yet).

    Options measured before are kept; only the missing ones are measured (on the same seeds, so the GPSR rows
    they are paired with come out the same, which is checked). With `variant`, the generator measured is the
    variant's (trained here the first time), and its rows are named "<row> [variant]".
    """
    done, path = folder / "options.json", folder / "result.json"
    result = json.loads(done.read_text()) if done.is_file() else None
    measured = {row["added"] for row in result["study"]["rows"]} if result else set()
    suffix = f" [{variant}]" if variant else ""
    if variant:
        recorded_variant(folder, variant, variant_flags)
    wanted = [f"{own}{suffix}" for own in STUDY_NAMES.values()] * bool(variant) + [f"{n}{suffix}" for n in names]
    if result and set(wanted) <= measured:
        return result
    if not path.is_file():
        return None
    result = result or json.loads(path.read_text())
    found = variant_checkpoint(folder, result, datapath, variant, variant_flags) if variant else best_of(folder / "logs")
    if found is None:
        return None
    missing = [n for n in names if f"{n}{suffix}" not in measured]
    state, generator, every, (samples, labels) = fold_inputs(found, result["dataset"], datapath)
    print(f"{folder.name}: {', '.join(wanted if variant else missing)}", flush=True)
    study = held_out(state, every, 0, generator, samples, labels, 0,
                     options_for(state, generator, missing, lambda other: trained_variant(folder, other)),
                     learned=False)  # the options are compared with the 1-NN recogniser
    if variant:
        study["rows"] = [{**r, "added": f"{STUDY_NAMES.get(r['added'], r['added'])}{suffix}"}
                         if r["added"] not in SIMPLE else r for r in study["rows"]]
        result.setdefault("variants", {})[variant] = {
            "flags": variant_flags, "epochs": int(state["epoch"]),
            "tstr_heldout_accuracy": study["tstr_heldout_accuracy"]}
        print(f"{folder.name}: variant {variant}: {int(state['epoch'])} epochs, held-out TSTR "
              f"{study['tstr_heldout_accuracy']:.3f}", flush=True)
        measured = {row["added"] for row in result["study"]["rows"]}  # the fold's own study stays, rows added
    if measured or variant:
        before = {(r["added"], r["per_class"]): r["errors"] for r in result["study"]["rows"]}
        if any(before[(r["added"], r["per_class"])] != r["errors"] for r in study["rows"] if r["added"] in measured):
            raise SystemExit(f"{done}: its rows differ from a new measurement of the same seeds; delete it to start over")
        rows = result["study"]["rows"] + [r for r in study["rows"] if r["added"] not in measured]
        study = {**(result["study"] if variant else study), "rows": rows, "versus_gpsr": versus_gpsr(rows)}
    result["study"] = study
    atomic_write(done, lambda out: out.write((json.dumps(result, indent=1) + "\n").encode()))
    return result


def run_fold_learned(folder: Path, datapath: str, names: list[str], learned_seeds: int, variant: str = "",
                     variant_flags: str = "", counts: tuple[int, ...] = COUNTS) -> dict[str, Any] | None:
    """The fold's study again, with both recognisers (the learned one over `learned_seeds` seeds) and the options
    as rows, into `learned-options.json` (None: the fold has no result or checkpoint yet; kept once complete).

    With `variant`, the variant's generator (trained here the first time) is measured at `counts` and its rows,
    named "<row> [variant]", join the fold's learned-options.json (measured before, without the variant); the
    real and simple rows they are paired with come out the same, which is checked. Options new to a fold measured
    before are measured alone and join it the same way.
    """
    done, path = folder / "learned-options.json", folder / "result.json"
    suffix = f" [{variant}]" if variant else ""
    wanted = {f"{n}{suffix}" for n in (*STUDY_NAMES.values(), *names)} if variant else set(names)
    result = json.loads(done.read_text()) if done.is_file() else None
    have = {row["added"] for row in result["study"]["learned"]["rows"]} if result else set()
    if result and wanted <= have:
        return result
    if variant and result is None:
        raise SystemExit(f"{folder}: measure the fold with --learned-seeds first (no {done.name}), then its variants")
    if variant:
        recorded_variant(folder, variant, variant_flags)
    found = best_of(folder / "logs")
    if not path.is_file() or found is None:
        return None
    base = json.loads(path.read_text())
    if variant:
        found = variant_checkpoint(folder, base, datapath, variant, variant_flags)
    state, generator, every, (samples, labels) = fold_inputs(found, base["dataset"], datapath)
    measured = names if variant else [n for n in names if n not in have]
    print(f"{folder.name}: both recognisers, {', '.join(sorted(wanted) if variant else measured)}", flush=True)
    study = held_out(state, every, 0, generator, samples, labels, 0, options_for(state, generator, measured),
                     learned=True, learned_seeds=learned_seeds, counts=counts)
    if result and not variant:
        for part in ("", "learned"):
            result["study"] = merged_study(result["study"], study, part, "", done, only=set(measured))
    elif variant:
        result["variants"] = {**result.get("variants", {}), variant: {
            "flags": variant_flags, "epochs": int(state["epoch"]), "tstr_heldout_accuracy": study["tstr_heldout_accuracy"]}}
        for part in ("", "learned"):
            result["study"] = merged_study(result["study"], study, part, suffix, done)
    else:
        base["study"] = study
        result = base
    atomic_write(done, lambda out: out.write((json.dumps(result, indent=1) + "\n").encode()))
    return result


def merged_study(into: dict[str, Any], new: dict[str, Any], part: str, suffix: str, where: Path,
                 only: set[str] | None = None) -> dict[str, Any]:
    """`into` (a fold's study) with `new`'s generator rows of one recogniser (`part`: "" for 1-NN, "learned"),
    renamed "<row><suffix>", added (with `only`: just the rows of those names, as they are); an error when `new`'s
    simple rows differ from those `into` holds."""
    old_part, new_part = (into, new) if not part else (into[part], new[part])
    before = {(r["added"], r["per_class"]): r["errors"] for r in old_part["rows"]}
    simple = [r for r in new_part["rows"] if r["added"] in SIMPLE]
    if any(before.get((r["added"], r["per_class"]), r["errors"]) != r["errors"] for r in simple) \
            or new_part["real_errors"] != old_part["real_errors"]:
        raise SystemExit(f"{where}: its real and simple rows differ from a new measurement of the same seeds")
    added = [{**r, "added": f"{STUDY_NAMES.get(r['added'], r['added'])}{suffix}"} for r in new_part["rows"]
             if r["added"] not in SIMPLE] if only is None else [r for r in new_part["rows"] if r["added"] in only]
    kept = [r for r in old_part["rows"] if r["added"] not in {a["added"] for a in added}]
    rows = kept + added
    merged = {**old_part, "rows": rows, "versus_gpsr": versus_gpsr(rows), "versus_best_simple": versus_best_simple(rows)}
    return merged if not part else {**into, part: merged}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", required=True, help="an augmentation.py --out folder")
    parser.add_argument("--datapath", default=str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--options", default=",".join(OPTIONS), help=f"comma-separated; default: {', '.join(OPTIONS)}")
    parser.add_argument("--folds", default="*", metavar="PATTERN",
                        help="which folds to measure, a glob of their folder names (e.g. 'jk2017-kinect-w2-*')")
    parser.add_argument("--variant", default="", metavar="NAME",
                        help="measure a generator trained per fold with the fold's flags plus --variant-flags "
                        "(trained the first time, in <fold>/variants/NAME)")
    parser.add_argument("--variant-flags", default="", metavar="FLAGS", help="main.py flags of --variant")
    parser.add_argument("--learned-seeds", type=int, default=0, metavar="N",
                        help="measure the options with both recognisers, the learned one over N seeds, into "
                        "<fold>/learned-options.json and OUT/learned-options.md (default options: "
                        f"{', '.join(LEARNED_OPTIONS)}; with --variant: none, only the study's own rows)")
    parser.add_argument("--counts", default=",".join(map(str, COUNTS)), metavar="K,K",
                        help="samples added per class that --learned-seeds --variant measures (default: the study's)")
    args = parser.parse_args()
    if bool(args.variant) != bool(args.variant_flags) or not re.fullmatch(r"[\w.-]*", args.variant):
        raise SystemExit("--variant NAME (letters, digits, . _ -) and --variant-flags FLAGS go together")
    if args.learned_seeds < 0:
        raise SystemExit("--learned-seeds takes N >= 0")
    if args.learned_seeds and args.options == parser.get_default("options"):
        args.options = "" if args.variant else ",".join(LEARNED_OPTIONS)
    counts = tuple(int(c) for c in args.counts.split(",") if c.strip())
    if not counts or min(counts) < 1:
        raise SystemExit(f"--counts takes positive whole numbers, got {args.counts!r}")
    names = [n.strip() for n in args.options.split(",") if n.strip()]
    folds = fold_folders(args.out)
    chosen = fold_folders(args.out, args.folds)
    if args.learned_seeds:
        if not [f for f in chosen if run_fold_learned(f, args.datapath, names, args.learned_seeds, args.variant,
                                                      args.variant_flags, counts) is not None]:
            raise SystemExit(f"no finished fold matching {args.folds!r} under {args.out}")
        measured = [json.loads((f / "learned-options.json").read_text()) for f in folds
                    if (f / "learned-options.json").is_file()]
        benchmark.write_summary(measured, Path(args.out) / "learned-options.md")
        return
    if not [r for r in (run_fold(f, args.datapath, names, args.variant, args.variant_flags) for f in chosen) if r is not None]:
        raise SystemExit(f"no finished fold{'' if args.folds == '*' else f' matching {args.folds!r}'} "
                         f"(result.json and logs/*/checkpoints/checkpoint-best.pt) under {args.out}")
    # The summary covers every fold measured so far, not only this call's.
    measured = [json.loads((f / "options.json").read_text()) for f in folds if (f / "options.json").is_file()]
    benchmark.write_summary(measured, Path(args.out) / "options.md")


if __name__ == "__main__":
    main()
