"""Does synthetic data help a recogniser for writers it never saw? Measured on held-out writers, without leaks.

Two recognisers are trained on the real samples of the seen writers alone, then
with k synthetic samples per class added, and tested on every sample of the
held-out writers:

- the standard 1-NN recogniser (`recognizers.recognizer_for`: Protractor for 2D,
  Jackknife-DTW otherwise), over `SEEDS` sampling seeds;
- the learned one (`gru_recognizer.GRURecognizer`), over `LEARNED_SEEDS` seeds,
  each seed drawing both the added samples and the network's weights and batches.

The added samples, each row under its synthesizer's name (`deepnag.generate.synthesizers`): GPSR variants of the
seen writers' real samples, a chain of simple transformations of them (`deepnag.data.chain`: GPSR → rotate →
stretch), the generator's samples, and the mixes, half of each class from a simple augmentation and half from the
generator ("mix": GPSR; "chain-mix": chain; "vetted-chain-mix": chain and the vetted generator), so every row adds
the same number. Rows are reported as a mean and
spread of the error and of the error reduction against real alone (for the
learned recogniser against real alone of the same seed). Each other kind is
also compared seed by seed with GPSR (`versus_gpsr`) and with the best simple
augmentation at that count, the better of GPSR and chain (`versus_best_simple`):
the question a user asks is whether the generator beats what costs nothing, and
pairing by seed takes out the variation the rows share.

For 1-NN, the distances from the test samples to every template are computed
once per seed at the largest k; 1-NN over fewer templates is a minimum over a
subset of those columns, so the counts cost nothing extra. The learned
recogniser is fitted once per row and seed, in `workers` processes of one thread.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Future
from dataclasses import dataclass
from typing import Any

import numpy as np

from deepnag import workers as workers_module
from deepnag.data import chain, gpsr
from deepnag.generate import vetting
from deepnag.generate.synthesizers import FORMER_NAMES, SYNTHESIZERS
from deepnag.progress import Progress
from deepnag.recognition import gru_recognizer, interface
from deepnag.recognition.gru_recognizer import GRURecognizer
from deepnag.recognition.recognizers import NearestNeighbour, recognizer_for

log = logging.getLogger(__name__)

COUNTS = (8, 32, 160)
"""Synthetic samples added per class (the rows of the table)."""
SEEDS = 5
"""Sampling seeds each augmented row of the 1-NN recogniser is repeated over."""
LEARNED_SEEDS = 3
"""Seeds (sampling and training) each row of the learned recogniser is repeated over: the first of the 1-NN's."""
PACE_ROWS = 64
"""Test samples the ETA's bounded pace is timed on (a few per cent of a study's distances)."""
SIMPLE = ("gpsr", "chain")
"""The simple augmentations: the best of them at each count is the baseline every other kind is paired with."""
MIXES = {name: (s.block.parts[0].name, s.block.parts[1].name) for name, s in SYNTHESIZERS.items() if s.block.parts}
"""The registry's mixes, each half of each class from its first block's pool, half from its second's ("vetted": the
generator's samples vetted by the seen writers' 1-NN recogniser, `study`'s `vetted`)."""
VETTED_ROW = "vetted-chain-mix"
"""The row of the vetted pool, measured when `study` gets one."""
ADDED = ("gpsr", "chain", "generator", *(name for name in MIXES if name != VETTED_ROW))
LABELS = {"real": "real alone", "gpsr": "real + GPSR"}
"""Row names in tables, where they are not "real + <name>"."""

Synthesize = Callable[[int, int], tuple[np.ndarray, np.ndarray]]
"""(k per class, seed) → k samples of every class, class-major, in the data's units, and their labels."""


def _nearest(distances: np.ndarray, labels: np.ndarray, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each query's nearest template among `columns`: its distance and label."""
    block = distances[:, columns]
    index = np.argmin(block, axis=1)
    return block[np.arange(len(block)), index], labels[columns][index]


def _predict(blocks: list[tuple[np.ndarray, np.ndarray, np.ndarray]]) -> np.ndarray:
    """1-NN over the union of template blocks (distances, labels, columns kept); ties go to the earlier block."""
    found = [_nearest(*block) for block in blocks if block[2].size]
    distances = np.stack([d for d, _ in found])
    labels = np.stack([lab for _, lab in found])
    return labels[np.argmin(distances, axis=0), np.arange(distances.shape[1])]


def _first_per_class(num_classes: int, k_max: int, k: int) -> np.ndarray:
    """Columns of the first k samples of every class in a class-major set of k_max per class."""
    return np.flatnonzero(np.tile(np.arange(k_max) < k, num_classes))


def _summary(values: Sequence[float]) -> dict[str, float]:
    values = np.asarray(values, dtype=np.float64)
    return {"mean": float(values.mean()), "sd": float(values.std(ddof=1)) if len(values) > 1 else 0.0,
            "min": float(values.min()), "max": float(values.max())}


def _parts(kind: str, k: int, k_max: int, num_classes: int) -> list[tuple[str, np.ndarray]]:
    """The (pool, columns) a row of `kind` with k per class adds to the real samples."""
    if kind in MIXES:
        simple, added = MIXES[kind]
        half = int(SYNTHESIZERS[kind].block.share * k)
        return [(simple, _first_per_class(num_classes, k_max, k - half)),
                (added, _first_per_class(num_classes, k_max, half))]
    return [(kind, _first_per_class(num_classes, k_max, k))]


Source = Callable[[int, int, np.random.Generator], tuple[Any, Any]]
"""A pool's maker: (k per class, seed, the seed's random generator) -> (samples, labels)."""


def _sources(seen: Sequence[np.ndarray], seen_labels: np.ndarray, num_classes: int, synthesize: Synthesize | None,
             variants: Mapping[str, Synthesize], vetted: Synthesize | None) -> dict[str, Source]:
    """Every pool a seed draws, by name, in drawing order: GPSR first, so its draws stay those of earlier versions of
    the study; the vetted pool only beside the generator."""
    sources: dict[str, Source] = {
        "gpsr": lambda k, seed, rng: gpsr.per_class(seen, seen_labels, k, rng, num_classes),
        "chain": lambda k, seed, rng: chain.per_class(seen, seen_labels, k, rng, num_classes)}
    if synthesize is not None:
        sources["generator"] = lambda k, seed, rng: synthesize(k, seed)
        if vetted is not None:
            sources["vetted"] = lambda k, seed, rng: vetted(k, seed)
    sources.update({name: (lambda k, seed, rng, make=make: make(k, seed)) for name, make in variants.items()})
    return sources


def _pools(sources: Mapping[str, Source], k_max: int, seed: int) -> dict[str, tuple[Any, np.ndarray]]:
    """k_max added samples per class of every source, drawn for `seed` in the sources' order."""
    rng = np.random.default_rng(seed)
    drawn = {name: make(k_max, seed, rng) for name, make in sources.items()}
    return {name: (samples, np.asarray(labels, dtype=np.int64)) for name, (samples, labels) in drawn.items()}


def _fit_error(recognizer: Any, seed: int, train: Sequence[np.ndarray], train_labels: np.ndarray,
               test: Sequence[np.ndarray], test_labels: np.ndarray) -> float:
    """A worker's job: test error of `recognizer` (a fresh copy seeded with `seed`) fitted on the train samples."""
    return interface.error_rate(recognizer, seed, train, train_labels, test, test_labels)


def default_workers() -> int:
    """Processes for the learned recogniser's fits: one per core this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


class _Inline:
    """An executor that runs each job at once (one worker: no processes to start)."""

    def submit(self, fn: Callable[..., float], *args: Any) -> Future:
        done: Future = Future()
        done.set_result(fn(*args))
        return done

    def __enter__(self) -> _Inline:
        return self

    def __exit__(self, *exc: object) -> None:
        return None


def study(
    seen: Sequence[np.ndarray],
    seen_labels: np.ndarray,
    test: Sequence[np.ndarray],
    test_labels: np.ndarray,
    num_classes: int,
    synthesize: Synthesize | None,
    *,
    counts: Sequence[int] = COUNTS,
    seeds: Sequence[int] = tuple(range(SEEDS)),
    variants: Mapping[str, Synthesize] | None = None,
    vetted: Synthesize | None = None,
    learned: bool = True,
    learned_seeds: int | None = None,
    workers: int | None = None,
    learned_steps: int | None = None,
    fit_seconds: float | None = None,
    recognizers: Mapping[str, Any] | None = None,
    recognizer_seeds: int | None = None,
) -> dict[str, Any]:
    """Errors on `test` of the recognisers trained on `seen` alone and with each kind of added samples (data units).

    `synthesize` is the generator (None: only the simple rows, e.g. when the generator saw the test writers);
    `variants` adds one row kind per named synthesizer, on the same seeds and draws; `vetted` (`deepnag.generate.vetting`)
    the row "vetted-chain-mix", with the generator only. `learned`: the GRU's study under "learned", over the first
    `learned_seeds` seeds (`LEARNED_SEEDS`), `learned_steps` steps a fit; `recognizers` (name: any scikit-learn-style
    recogniser) theirs under "more", over the first `recognizer_seeds` (all). Fits run in `workers` processes (one
    per core); `fit_seconds`, one GRU fit's measured time, gives the ETA logged at the start.
    """
    seen_labels, test_labels = np.asarray(seen_labels, dtype=np.int64), np.asarray(test_labels, dtype=np.int64)
    counts = sorted({int(k) for k in counts})
    rows, nearest = (_Rows(_kinds(synthesize is not None, vetted is not None, dict(variants or {})), counts, num_classes),
                     recognizer_for(int(np.asarray(seen[0]).shape[1]), samples=seen))
    real_block, paces = _timed_real_block(nearest, test, seen, seen_labels)
    fitted = _fitted(list(seeds), learned, learned_seeds, learned_steps, recognizers, recognizer_seeds)
    sets = _Sets(list(seen), seen_labels, list(test), test_labels, rows)
    errors: dict[tuple[str, int], list[float]] = {key: [] for key in rows.keys()}
    jobs = {name: {key: [] for key in sets.keys()} for name, _, _ in fitted}
    workers, fits = min(default_workers() if workers is None else workers, 8), sum(len(s) for *_, s in fitted) * len(
        sets.keys())
    sources = _sources(seen, seen_labels, num_classes, synthesize, dict(variants or {}), vetted)
    bounded, unbounded = _pairs_per_seed(rows, len(test), len(seen), len(sources), "vetted" in sources)
    _log_plan(len(seeds), fits, workers, fit_seconds, len(seeds) * (bounded * paces[1] + unbounded * paces[0]))
    executor = workers_module.pool(workers) if fitted and workers > 1 else _Inline()
    with executor, workers_module.terminate_on_sigterm(executor), \
            Progress(len(seeds) + fits, "held-out augmentation study", "steps", log, every=5.0) as progress:
        for seed in seeds:
            pool = _pools(sources, rows.k_max, seed)
            for key, error in _nearest_neighbour_errors(nearest, test, test_labels, real_block, rows, pool).items():
                errors[key].append(error)
            progress.update()
            sets.submit_all(executor, fitted, pool, seed, jobs)
        for job in (job for by_key in jobs.values() for found in by_key.values() for job in found):
            job.exception()  # waits; a recogniser's failure is its study's (`_fitted_result`), not the others'
            progress.update()
    one_nn = _result(type(nearest).__name__, [float(np.mean(_predict([real_block]) != test_labels))], errors, seeds,
                     counts, len(seen), len(test))
    studies = {name: _fitted_result(name, jobs[name], its, counts, len(seen), len(test)) for name, _, its in fitted}
    one_nn["learned"] = studies.pop("learned", None)
    return {**one_nn, "more": list(studies.values())} if recognizers else one_nn


def _fitted_result(name: str, jobs: Mapping[tuple[str, int], list[Future]], seeds: Sequence[int],
                   counts: Sequence[int], num_seen: int, num_test: int) -> dict[str, Any]:
    """A fitted recogniser's study from its finished jobs (real alone's under ("real", first count)); for one that
    failed, {"recognizer", "failed": the one-line reason}."""
    try:
        errors = {key: [job.result() for job in found] for key, found in jobs.items()}
    except interface.RecognizerError as error:
        return {"recognizer": name, "failed": str(error)}
    real = errors.pop(("real", counts[0]))
    return _result(name if name != "learned" else GRURecognizer.__name__, real, errors, seeds, counts, num_seen,
                   num_test)


def _fitted(seeds: list[int], learned: bool, learned_seeds: int | None, learned_steps: int | None,
            recognizers: Mapping[str, Any] | None, recognizer_seeds: int | None) -> list[tuple[str, Any, list[int]]]:
    """The recognisers fitted row by row, each with its seeds: the learned one ("learned"), then `recognizers`."""
    fitted = []
    if learned:
        steps = gru_recognizer.STEPS if learned_steps is None else int(learned_steps)
        fitted.append(("learned", GRURecognizer(steps=steps), seeds[:LEARNED_SEEDS if learned_seeds is None
                                                                   else learned_seeds]))
    for name, recognizer in (recognizers or {}).items():
        fitted.append((name, interface.checked(recognizer), seeds[:recognizer_seeds]))
    return [entry for entry in fitted if entry[2]]


def _timed_real_block(nearest: NearestNeighbour, test: Sequence[np.ndarray], seen: Sequence[np.ndarray],
                      seen_labels: np.ndarray) -> tuple[tuple[np.ndarray, np.ndarray, np.ndarray], tuple[float, float]]:
    """The test samples' distances to the seen ones as a template block, and the seconds a pair took (the ETA's paces):
    unbounded, and bounded by each row's nearest, as the pools' distances are, timed on up to `PACE_ROWS` rows (for a
    recogniser that cuts bounded distances short; the others' two paces are one)."""
    started = time.perf_counter()
    distances = nearest.distance_matrix(test, seen)
    unbounded = (time.perf_counter() - started) / max(1, distances.size)
    exact = type(nearest).bounded_distances is NearestNeighbour.bounded_distances
    if not distances.size or exact:  # an exact recogniser's bounded pace is its unbounded one: no second timing
        return (distances, seen_labels, np.arange(len(seen))), (unbounded, unbounded)
    probe = np.unique(np.linspace(0, len(test) - 1, min(len(test), PACE_ROWS)).round().astype(np.int64))
    started = time.perf_counter()
    nearest.distance_matrix([test[i] for i in probe], seen, distances[probe].min(axis=1))
    bounded = (time.perf_counter() - started) / (len(probe) * len(seen))
    return (distances, seen_labels, np.arange(len(seen))), (unbounded, bounded)


def _pairs_per_seed(rows: _Rows, num_test: int, num_seen: int, sources: int, vetted: bool) -> tuple[int, int]:
    """The 1-NN distances a seed computes: (bounded) every test sample against each of the `sources` pools, and
    (unbounded) the vetting's candidates against the seen samples."""
    per_source = rows.k_max * rows.num_classes
    return per_source * num_test * sources, vetted * per_source * vetting.POOL * num_seen


def _log_plan(seeds: int, fits: int, workers: int, fit_seconds: float | None, nearest_seconds: float) -> None:
    """Say at the start what the study will do and about how long it will take: the 1-NN distances (`nearest_seconds`,
    from the real block's measured pace; $P's are the slow ones) and, from one fit's measured time, the fits."""
    plan = f"held-out augmentation study: 1-NN over {seeds} seeds, {fits} recogniser fits"
    if fits and fit_seconds:
        plan += f" on {workers} worker{'s' * (workers > 1)} (one GRU fit took {fit_seconds:.1f} s here)"
    eta = nearest_seconds + (fits * fit_seconds / max(1, workers) if fits and fit_seconds else 0.0)
    log.info("%s; ETA about %.0f min (1-NN distances about %.0f min)", plan, eta / 60, nearest_seconds / 60)


def _kinds(generator: bool, vetted: bool, variants: Mapping[str, Synthesize]) -> tuple[str, ...]:
    """The study's row kinds: its own (the simple ones alone without a generator), then the variants'."""
    if clash := set(variants) & {*LABELS, *MIXES, *ADDED, *(source for pair in MIXES.values() for source in pair)}:
        raise ValueError(f"variant names {sorted(clash)} are taken by the study's own rows")
    own = (*ADDED, *(VETTED_ROW,) * vetted) if generator else SIMPLE
    return (*own, *variants)


def _nearest_neighbour_errors(recognizer: NearestNeighbour, test: Sequence[np.ndarray], test_labels: np.ndarray,
                              real_block: tuple[np.ndarray, np.ndarray, np.ndarray], rows: _Rows,
                              pool: Mapping[str, tuple[Any, np.ndarray]]) -> dict[tuple[str, int], float]:
    """The 1-NN recogniser's test error for every row, its templates the real ones and the row's share of `pool`.

    Every row has the real templates, first: an added sample no nearer than a query's nearest real one cannot be its
    nearest (ties go to the real one), so its distance is only needed as far as that bound (`bounded_distances`).
    """
    bounds = real_block[0].min(axis=1) if real_block[0].shape[1] else None
    distances = {name: recognizer.distance_matrix(test, list(samples), bounds) for name, (samples, _) in pool.items()}
    errors = {}
    for key in rows.keys():
        blocks = [real_block] + [(distances[name], pool[name][1], columns) for name, columns in rows.parts(*key)]
        errors[key] = float(np.mean(_predict(blocks) != test_labels))
    return errors


@dataclass(frozen=True)
class _Rows:
    """The study's rows: each kind of added samples at each count per class."""

    kinds: tuple[str, ...]
    counts: Sequence[int]
    num_classes: int

    @property
    def k_max(self) -> int:
        return max(self.counts)

    def keys(self) -> list[tuple[str, int]]:
        return [(kind, k) for kind in self.kinds for k in self.counts]  # kind-major: the order of the JSON rows

    def parts(self, kind: str, k: int) -> list[tuple[str, np.ndarray]]:
        return _parts(kind, k, self.k_max, self.num_classes)


@dataclass(frozen=True)
class _Sets:
    """The training sets of a fitted recogniser's study: real alone, and real + each row's added samples."""

    seen: list[np.ndarray]
    seen_labels: np.ndarray
    test: list[np.ndarray]
    test_labels: np.ndarray
    rows: _Rows

    def keys(self) -> list[tuple[str, int]]:
        return [("real", self.rows.counts[0]), *self.rows.keys()]

    def submit_all(self, executor: Any, fitted: list[tuple[str, Any, list[int]]],
                   pool: Mapping[str, tuple[Any, np.ndarray]], seed: int,
                   jobs: dict[str, dict[tuple[str, int], list[Future]]]) -> None:
        """`submit` for each fitted recogniser whose seeds hold `seed`, its jobs appended to `jobs[name]`."""
        for name, recognizer, its_seeds in fitted:
            if seed in its_seeds:
                for key, job in self.submit(executor, recognizer, pool, seed).items():
                    jobs[name][key].append(job)

    def submit(self, executor: Any, recognizer: Any, pool: Mapping[str, tuple[Any, np.ndarray]],
               seed: int) -> dict[tuple[str, int], Future]:
        """One fit of `recognizer` per training set (one seed), through its fit/predict, each a job of `executor`."""
        jobs = {("real", self.rows.counts[0]): executor.submit(_fit_error, recognizer, seed, self.seen,
                                                               self.seen_labels, self.test, self.test_labels)}
        for key in self.rows.keys():
            parts = self.rows.parts(*key)
            x = [*self.seen, *(pool[name][0][i] for name, columns in parts for i in columns)]
            y = np.concatenate([self.seen_labels, *(pool[name][1][columns] for name, columns in parts)])
            jobs[key] = executor.submit(_fit_error, recognizer, seed, x, y, self.test, self.test_labels)
        return jobs


def _result(name: str, real_errors: Sequence[float], errors: Mapping[tuple[str, int], Sequence[float]],
            seeds: Sequence[int], counts: Sequence[int], num_seen: int, num_test: int) -> dict[str, Any]:
    """One recogniser's study as JSON: real alone (one error for 1-NN, one per seed for a learned recogniser), then
    one row per kind and count."""
    real = np.asarray(real_errors, dtype=np.float64)
    rows = []
    for (kind, k), values in errors.items():
        values = np.asarray(values, dtype=np.float64)
        # Relative to real alone (of the same seed); undefined when real alone makes no error.
        reduction = _summary((real - values) / real) if (real > 0).all() else None
        rows.append({"added": kind, "per_class": k, "errors": values.tolist(), "error": _summary(values),
                     "reduction": reduction})
    result = {
        "recognizer": name,
        "real_error": float(real.mean()),
        "real_errors": real.tolist(),
        "rows": rows,
        "versus_gpsr": versus_gpsr(rows),
        "versus_best_simple": versus_best_simple(rows),
        "counts": list(counts),
        "seeds": [int(s) for s in seeds],
        "samples": {"seen": num_seen, "test": num_test},
    }
    return result


def _paired(rows: Sequence[Mapping[str, Any]], baseline: Mapping[int, str]) -> list[dict[str, Any]]:
    """Each row's error minus its count's baseline row's, seed by seed (rows of a simple kind are left out)."""
    errors = {(row["added"], row["per_class"]): np.asarray(row["errors"]) for row in rows}
    paired = []
    for row in rows:
        k = row["per_class"]
        if row["added"] not in SIMPLE and k in baseline:
            differences = np.asarray(row["errors"]) - errors[(baseline[k], k)]
            paired.append({"added": row["added"], "per_class": k, "baseline": baseline[k],
                           "differences": differences.tolist(), "difference": _summary(differences)})
    return paired


def versus_gpsr(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each non-simple row's error minus GPSR's at the same count, seed by seed (negative: fewer errors than GPSR)."""
    return _paired(rows, {row["per_class"]: "gpsr" for row in rows if row["added"] == "gpsr"})


def versus_best_simple(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """Each non-simple row's error minus that of the best simple augmentation at its count (lower mean error)."""
    best: dict[int, tuple[float, str]] = {}
    for row in rows:
        if row["added"] in SIMPLE:
            best[row["per_class"]] = min(best.get(row["per_class"], (np.inf, "")), (row["error"]["mean"], row["added"]))
    return _paired(rows, {k: kind for k, (_, kind) in best.items()})


def with_current_names(result: Mapping[str, Any]) -> dict[str, Any]:
    """A study read from a file, its rows renamed from `FORMER_NAMES` to the registry's (values unchanged)."""

    def renamed(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        return [{**row, **{key: FORMER_NAMES.get(row[key], row[key]) for key in ("added", "baseline") if key in row}}
                for row in rows]

    out = {**result, **{key: renamed(result[key]) for key in ("rows", "versus_gpsr", "versus_best_simple")
                        if result.get(key) is not None}}
    if result.get("learned"):
        out["learned"] = with_current_names(result["learned"])
    if result.get("more"):
        out["more"] = [with_current_names(other) if "rows" in other else other for other in result["more"]]
    return out


def label(kind: str) -> str:
    """A row kind's name in tables: the study's own, or "real + <variant>"."""
    return LABELS.get(kind, f"real + {kind}")


def _table(result: Mapping[str, Any]) -> list[str]:
    """One recogniser's study as lines: one per training set, then each kind paired with the best simple one."""
    paired = result.get("versus_best_simple") or versus_best_simple(result["rows"])
    names = {(row["added"], row["baseline"]): f"{label(row['added']).removeprefix('real + ')} − "
             f"{label(row['baseline']).removeprefix('real + ')}" for row in paired}
    w = max(22, *(len(label(row["added"])) + 2 for row in result["rows"]), *(len(n) + 1 for n in names.values()))
    lines = [f"{'added per class':<16}{'training set':<{w}}{'error':>8}  {'vs real alone (mean ± sd, min…max)':<40}",
             f"{0:<16}{LABELS['real']:<{w}}{result['real_error']:>8.4f}  {'—':<40}"]
    order = [row["added"] for row in result["rows"]]
    for row in sorted(result["rows"], key=lambda r: (r["per_class"], order.index(r["added"]))):
        r, e = row["reduction"], row["error"]
        if r is None:
            change = f"(real alone: no error) error sd {e['sd']:.4f}"
        else:
            change = (f"{0.0 - 100 * r['mean']:+.1f}% ± {100 * r['sd']:.1f}  "
                      f"({0.0 - 100 * r['max']:+.1f}…{0.0 - 100 * r['min']:+.1f}%)")
        lines.append(f"{row['per_class']:<16}{label(row['added']):<{w}}{row['error']['mean']:>8.4f}  {change:<40}")
    if paired:
        lines.append(f"{'':<16}{'paired by seed':<{w}}{'Δ error':>8}  against the best simple augmentation at that "
                     "count, same seed (mean ± sd, min…max)")
    for row in sorted(paired, key=lambda r: (r["per_class"], order.index(r["added"]))):
        d = row["difference"]
        name = names[(row["added"], row["baseline"])]
        lines.append(f"{row['per_class']:<16}{name:<{w}}{d['mean']:>+8.4f}  ± {d['sd']:.4f}  ({d['min']:+.4f}…{d['max']:+.4f})")
    what = "sampling seeds" if len(result.get("real_errors", ())) < 2 else "seeds (sampling and training)"
    lines.append(f"error: 1 − accuracy of {result['recognizer']} on {result['samples']['test']} samples of the "
                 f"held-out writers (lower is better); changes over {len(result['seeds'])} {what}, negative = fewer errors")
    if paired:
        lines.append("paired: a kind beats the baseline beyond the seeds' spread when its whole min…max is below zero")
    return lines


def table(result: Mapping[str, Any]) -> str:
    """The study as text: the 1-NN recogniser's table, then the learned one's, then any other's."""
    lines = _table(result)
    for other in (result.get("learned"), *result.get("more", ())):
        if other:
            lines += ["", f"{other['recognizer']} failed: {other['failed']}" if "failed" in other else
                      "\n".join(_table(other))]
    return "\n".join(lines)


__all__ = ["COUNTS", "SEEDS", "LEARNED_SEEDS", "SIMPLE", "MIXES", "ADDED", "LABELS", "VETTED_ROW", "default_workers", "label",
           "with_current_names",
           "study", "table", "versus_best_simple", "versus_gpsr"]
