"""The run configuration: one dataclass holding every flag, declared once with its default, help, group and parsing.

`deepnag.cli` builds the parser from the declarations and the `Config` from the command line; everything else
reads it. Flag names follow the reference DeepNAG implementation.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from typing import Any, Sequence

from deepnag import flag_types as ft
from deepnag.flag_types import DOLLAR_GDS_SPEEDS, DURATION_UNITS, MMG_DEVICES, STROKE_ORDERS

MODELS = ("DeepNAG", "DeepGAN")
DATASETS = ("dollar-gds", "jk2017-kinect", "jk2017-leap", "mmg", "folder")
MULTISTROKE_DATASETS = frozenset({"mmg"})
"""Data sets of multistroke pen gestures (x, y, pen state): recognised with $P, and what --stroke-order orders."""
DEFAULT_EPOCHS = {"DeepNAG": 25_000, "DeepGAN": 150_000}
DEVICES = ("auto", "cpu", "cuda")
BEST_BY = ("loss", "tstr")
METRICS = ("fast", "study")
"""`--metrics`: the quality figures alone (what the bare flag means), or with the held-out-writer study."""
RECIPES: dict[str, dict[str, Any]] = {
    "reference": {},
    "fast": {"lr": 3e-3, "lr_warmup": 100, "ema": 0.999},
}
"""`--recipe`: training settings a recipe gives the flags the user leaves out (the reference's: none).

"fast" buys quality per minute of CPU with a 30x learning rate, warmed up over its
first steps, and samples from a moving average of the weights; benchmarks/time_to_quality.py
measures it against the reference's schedule (docs/findings/time-to-quality.md)."""


WHAT_TO_RUN = "what to run"
"""The help group of the actions' own flags; the other groups are those of `Config`'s flag declarations."""


def _flag(default: Any, help: str, group: str = WHAT_TO_RUN, *, names: tuple[str, ...] = (), **argparse: Any) -> Any:
    """A field of `Config` declared as its flag: default, help, help group, and how argparse parses it (`names`: the
    flag's spellings, default --field-name; `argparse`: type, choices, metavar, action)."""
    return dataclasses.field(default=default, metadata={"help": help, "group": group, "names": names,
                                                       "argparse": argparse})


def _recipe_flags(name: str) -> str:
    """A recipe as the flags it stands for, e.g. `--lr=0.001 --ema=0.999`."""
    return " ".join(f"--{k.replace('_', '-')}={v}" for k, v in RECIPES[name].items())


DATA, MODEL, RUNTIME, OUTPUTS = "data", "model and optimisation", "runtime", "training outputs"
MEASURES, SAMPLES, FIGURES = "output and measurements", "samples to write", "figures"
REALISM = "realism study"


@dataclass(frozen=True)
class Config:
    """Every setting of a run, each declared once as its flag (default, help, group, parsing): the command line,
    the action table's groups and the docs' CLI page are generated from these declarations."""

    model: str = _flag("DeepNAG", f"generator training method: {' | '.join(MODELS)}", MODEL,
                       type=ft.choice("model", MODELS))
    dataset: str = _flag("dollar-gds", f"data set: {' | '.join(DATASETS)}", DATA, names=("--dataset", "--dataset-name"),
                         type=ft.choice("data set", DATASETS))
    evaluate: str | None = _flag(None, "visualise a trained checkpoint instead of training "
                                 "(model and data set come from the checkpoint)", metavar="CHECKPOINT")
    resume: str | None = _flag(None, "continue the run that wrote CHECKPOINT, in its run directory", metavar="CHECKPOINT")
    realism_study: tuple[str, ...] = _flag((), "serve a HYPE∞ realism study in the browser: people tell real gestures "
                                           "from those of these comma-separated checkpoints (one data set); see "
                                           "docs/realism-study.md", type=ft.names, metavar="CKPT[,CKPT...]")
    fresh_critic: bool = _flag(False, "with --resume of a generator-only DeepGAN checkpoint: train a new critic against "
                               "it", action="store_true")
    generate: str | None = _flag(None, "write synthetic samples of a trained checkpoint to --output (see "
                                 "--num-per-class, --format)", metavar="CHECKPOINT")
    datapath: str = _flag("data", "folder holding (or receiving) the data sets; data found there is used "
                          "without any network access. The default, data, is the project's data/ folder from any "
                          "working directory ($DEEPNAG_DATA overrides it; an installed package uses "
                          "~/.cache/deepnag/data). With --dataset=folder: your folder of class subfolders", DATA)
    download_url: str | None = _flag(None, "mirror to download from: for dollar-gds the URL of xml.zip, for "
                                     "jk2017-kinect and jk2017-leap the URL of the training folder, for mmg the URL "
                                     "of mmg.tar.xz (also DEEPNAG_DOLLAR_GDS_URL / DEEPNAG_JK2017_URL / "
                                     "DEEPNAG_JK2017_LEAP_URL / DEEPNAG_MMG_URL); default: "
                                     "the publishers' addresses", DATA)
    speeds: tuple[str, ...] = _flag(("medium",), "dollar-gds and mmg only: comma-separated writing speeds to load "
                                    f"({', '.join(DOLLAR_GDS_SPEEDS)})", DATA, type=ft.speeds)
    mmg_device: str = _flag("both", "mmg only: the recordings to load, pen (a stylus, 10 writers), finger (9 "
                            "writers) or both", DATA, type=ft.choice("--mmg-device", MMG_DEVICES))
    subject_pattern: str = _flag("", "folder only: regular expression whose first group, found in a file name, is its "
                                 "subject (used when DIR/subjects.csv is absent)", DATA)
    classes: tuple[str, ...] = _flag((), "comma-separated class names to keep (default: all classes)", DATA,
                                     type=ft.names)
    subjects: tuple[str, ...] = _flag((), "comma-separated subjects (writers) to train on (default: all); the others "
                                      "are held out, and --metrics measures on them what synthetic data adds for "
                                      "unseen writers", DATA, type=ft.names)
    holdout_subjects: tuple[str, ...] = _flag((), "comma-separated subjects to keep out of training", DATA,
                                              type=ft.names)
    train_subject_count: int = _flag(0, "train on this many subjects, drawn with --seed from those left by the two "
                                     "flags above (0: all of them)", DATA,
                                     type=ft.non_negative_int("--train-subject-count"))
    max_per_class: int = _flag(0, "keep at most this many samples per class (0: all); for quick experiments", DATA,
                               type=ft.non_negative_int("--max-per-class"))
    chain_variants: int = _flag(0, "train on K chained variants (GPSR, rotation, stretch: deepnag/data/chain.py) of "
                                "every training sample beside it, drawn once with --seed: a generator of a wider "
                                "distribution than its few writers (0: none, the reference's)", DATA,
                                type=ft.non_negative_int("--chain-variants"), metavar="K")
    stroke_order: str = _flag("drawn", "multistroke pen data (mmg): train on the strokes as drawn, or canonical: each "
                              "stroke from its upper-left end (a closed one clockwise), the strokes sorted by where "
                              "they start, so a class drawn in several orders is one shape to learn; the generator "
                              "then draws that order", DATA, type=ft.choice("--stroke-order", STROKE_ORDERS))
    seed: int = _flag(1234, "random seed; -1 draws a random one", MODEL, type=int)
    latent_dim: int = _flag(32, "size of the latent noise per time step", MODEL, type=ft.positive_int("--latent-dim"))
    gamma: float = _flag(0.1, "soft-DTW smoothing (gamma) of the loss; the reference uses 0.1", MODEL,
                         type=ft.positive_float("--gamma"))
    diversity_weight: float = _flag(1.0, "weight of the loss's diversity term against its fidelity term (DeepNAG; the "
                                    "reference's: 1; 0 drops it)", MODEL,
                                    type=ft.non_negative_float("--diversity-weight"), metavar="W")
    resample_n: int = _flag(64, "points per gesture after spatial resampling (at least 2)", MODEL,
                            type=ft.positive_int("--resample-n"))
    recipe: str = _flag("reference", "a set of training defaults: 'reference' (the paper's) or 'fast' "
                        f"({_recipe_flags('fast')}: good generators in minutes of CPU); flags given win "
                        "(default: reference)", MODEL, type=ft.choice("recipe", tuple(RECIPES)))
    lr: float = _flag(1e-4, "Adam learning rate", MODEL, type=ft.positive_float("--lr"))
    lr_warmup: int = _flag(0, "raise the learning rate linearly over the first STEPS optimiser steps (0: none)", MODEL,
                           type=ft.non_negative_int("--lr-warmup"), metavar="STEPS")
    ema: float = _flag(0.0, "sample from an exponential moving average of the generator's weights with this decay "
                       "per step, e.g. 0.999 (0: the trained weights themselves)", MODEL, type=ft.beta("--ema"),
                       metavar="DECAY")
    beta0: float = _flag(0.5, "Adam beta 1", MODEL, type=ft.beta("--beta0"))
    beta1: float = _flag(0.9, "Adam beta 2", MODEL, type=ft.beta("--beta1"))
    batch_size: int = _flag(64, "samples per batch", MODEL, type=ft.positive_int("--batch-size"))
    epochs: int | None = _flag(None, "training length; default: 25000 for DeepNAG (epochs), 150000 for DeepGAN "
                               "(generator steps)", MODEL, type=ft.positive_int("--epochs"))
    time_limit: float = _flag(0.0, "stop training cleanly after this much wall-clock time (e.g. 90s, 30m, 2h), "
                              "writing checkpoint-last.pt and the command that continues it (default: no limit)",
                              MODEL, type=ft.duration)
    deepgan_critic_iters: int = _flag(5, "DeepGAN: critic steps per generator step", MODEL,
                                      type=ft.positive_int("--deepgan-critic-iters"))
    deepgan_lambda: float = _flag(10.0, "DeepGAN: gradient-penalty weight", MODEL,
                                  type=ft.positive_float("--deepgan-lambda"))
    device: str = _flag("auto", "where to train: auto picks CUDA when available", RUNTIME,
                        type=ft.choice("device", DEVICES))
    amp: str = _flag("none", "run the generator under bfloat16 autocast (CPU and CUDA); the loss stays float32",
                     RUNTIME, choices=("none", "bf16"))
    skip_nonfinite: bool = _flag(False, "skip an optimiser step whose loss or gradient is NaN/inf instead of stopping "
                                 "the run", RUNTIME, action="store_true")
    num_threads: int = _flag(0, "CPU threads for torch and Numba (0: the cores available)", RUNTIME,
                             type=ft.non_negative_int("--num-threads"))
    logdir: str = _flag("logs", "parent folder of the run directories", OUTPUTS)
    experiment_name: str = _flag("", "suffix of the run directory's name", OUTPUTS)
    use_tensorboard: int = _flag(1, "write TensorBoard logs (1) or not (0)", OUTPUTS, type=int, choices=(0, 1))
    vis_frequency: int = _flag(100, "epochs between sample figures in TensorBoard (0 disables)", OUTPUTS,
                               type=ft.non_negative_int("--vis-frequency"))
    checkpoint_frequency: int = _flag(10_000, "epochs between periodic checkpoints (0 disables; best and final are "
                                      "always kept)", OUTPUTS, type=ft.non_negative_int("--checkpoint-frequency"))
    restart_every: int = _flag(1, "under torchrun: epochs between the checkpoint-last.pt that a worker group "
                               "restarted by torchrun --max-restarts resumes from, so a lost worker costs at most "
                               "that many epochs (0: never; a single-process run ignores it)", OUTPUTS,
                               type=ft.non_negative_int("--restart-every"))
    output: str | None = _flag(None, "with --evaluate: folder for the figures (default: evaluation/ in the run "
                               "directory); with --generate: the output path, PATH.npz (and PATH/ with --format "
                               "native)", MEASURES)
    show: bool = _flag(False, "with --evaluate: also open a window (needs a display)", FIGURES, action="store_true")
    num_per_class: int = _flag(10, "synthetic samples per class: what --generate writes, and what --metrics measures",
                               MEASURES, type=ft.positive_int("--num-per-class"))
    synthesizer: str = _flag("generator", "what writes the samples: {synthesizers}. The simple ones transform the "
                             "--generate checkpoint's training samples, else those the data flags select; the mixes "
                             "need --generate", SAMPLES)  # {synthesizers}: filled from deepnag.generate.synthesizers
    num_per_sample: int = _flag(8, "with --synthesizer=gpsr or chain: variants of every real sample", SAMPLES,
                                type=ft.positive_int("--num-per-sample"))
    format: str = _flag("npz", "with --generate: npz only, or also a folder in the data set's own file format",
                        SAMPLES, choices=("npz", "native"))
    eval_every: str = _flag("", "while training, every N epochs (50) or so much time (10m): TSTR against the "
                            "real-data yardstick and diversity, to TensorBoard and the console (on held-out writers "
                            "when there are)", OUTPUTS, type=ft.interval, metavar="EPOCHS|DURATION")
    best_by: str = _flag("loss", "checkpoint-best.pt is the lowest loss (the reference) or, with --eval-every, the "
                         "highest TSTR", OUTPUTS, type=ft.choice("--best-by", BEST_BY))
    metrics: str | None = _flag(None, "with --evaluate or --generate: measure quality into metrics.json. --metrics: TSTR "
                         "of the 1-NN and GRU recognisers against their real-data yardsticks, fidelity and diversity "
                         "(about a minute on 2 cores); --metrics=study adds the held-out-writer augmentation study "
                         "(tens of minutes; its ETA is printed as it starts)", MEASURES,
                         nargs="?", const=METRICS[0], type=ft.choice("--metrics", METRICS), metavar="study")
    recognizer: tuple[str, ...] = _flag(ft.RECOGNIZERS, "with --metrics: the recognisers measured beside the 1-NN one, "
                                        f"comma-separated: {', '.join(ft.RECOGNIZERS)} (minirocket needs the aeon "
                                        "extra: pip install \"deepnag[aeon]\"), or module:Class, any scikit-learn-style "
                                        "classifier of variable-length (T, D) arrays, made with no arguments; none: "
                                        "--recognizer=", MEASURES, type=ft.recognizers, metavar="NAMES")
    host: str = _flag("127.0.0.1", "the realism study's address to serve on: 127.0.0.1 (this machine only), or "
                      "0.0.0.0 for a lab's network", REALISM)
    port: int = _flag(8765, "the realism study's port (0: any free one)", REALISM, type=ft.int_at_least("--port", 0))
    trials: int = _flag(40, "scored trials per participant of the realism study: a multiple of twice the generators "
                        "(half real, half generated per generator)", REALISM, type=ft.positive_int("--trials"))
    practice_trials: int = _flag(6, "practice trials per participant, with feedback, before the scored ones", REALISM,
                                 type=ft.non_negative_int("--practice-trials"))
    study_dir: str = _flag("", "the realism study's folder (answers, samples, results); default: "
                           "<logdir>/realism/study-<digest of the checkpoints>, which the same command reopens",
                           REALISM)

    @property
    def resolved_seed(self) -> int:
        """The seed a run uses: the flag, or for -1 a fresh random one (drawn here, the one place that does)."""
        return self.seed if self.seed != -1 else int.from_bytes(os.urandom(4), "little") >> 1

    @property
    def eval_interval(self) -> tuple[str, float] | None:
        """`eval_every` read: ("epochs", N) or ("seconds", S), or None when quality is not measured."""
        if not self.eval_every:
            return None
        if self.eval_every[-1].isdigit():
            return ("epochs", float(int(self.eval_every)))
        return ("seconds", float(self.eval_every[:-1]) * DURATION_UNITS[self.eval_every[-1].lower()])

    @property
    def num_epochs(self) -> int:
        """Epochs to train: the flag, or the model's default from the reference."""
        return self.epochs if self.epochs is not None else DEFAULT_EPOCHS[self.model]

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-friendly values (tuples become lists)."""
        return {k: list(v) if isinstance(v, tuple) else v for k, v in dataclasses.asdict(self).items()}

    @classmethod
    def from_dict(cls, values: dict[str, Any]) -> "Config":
        """Inverse of `to_dict`; unknown keys (from a newer version) are ignored."""
        names = {f.name: f for f in dataclasses.fields(cls)}
        kept = {k: tuple(v) if isinstance(v, list) else v for k, v in values.items() if k in names}
        return cls(**kept)


def flag_names(field: dataclasses.Field) -> tuple[str, ...]:
    """A field's spellings on the command line: its declared names, else --field-name."""
    return field.metadata["names"] or (f"--{field.name.replace('_', '-')}",)


def flag_groups() -> dict[str, tuple[str, ...]]:
    """The help groups of the flags (all but the actions' own), each with its fields in declaration order."""
    groups: dict[str, list[str]] = {group: [] for group in (DATA, MODEL, RUNTIME, OUTPUTS, MEASURES, SAMPLES, FIGURES,
                                                              REALISM)}
    for field in dataclasses.fields(Config):
        if field.metadata["group"] != WHAT_TO_RUN:
            groups[field.metadata["group"]].append(field.name)
    return {group: tuple(names) for group, names in groups.items()}


def flag_text(value: Any) -> str:
    """A setting as it is written on the command line: `s02,s03` for a list, else str()."""
    return ",".join(map(str, value)) if isinstance(value, (tuple, list)) else str(value)


def flag_or_saved(config: Config, explicit: set[str], saved: Config, name: str) -> Any:
    """An action on a checkpoint uses the checkpoint's setting `name` unless the user gave the flag."""
    return getattr(config if name in explicit else saved, name)


def conflict(config: Config, explicit: set[str], saved: Config, may_differ: Sequence[str], source: str,
             called: str) -> str | None:
    """Why the flags given to an action on a checkpoint conflict with it (None: they do not): the first flag given,
    outside those the action `may_differ` on, whose value is not the checkpoint's."""
    for name in sorted(explicit - set(may_differ)):
        if getattr(config, name) != getattr(saved, name):
            return (f"--{name.replace('_', '-')}={flag_text(getattr(config, name))} conflicts with {source}, which "
                    f"holds {flag_text(getattr(saved, name))}; {called} takes model and data set from the checkpoint")
    return None


__all__ = ["Config", "WHAT_TO_RUN", "flag_groups", "flag_names", "BEST_BY", "RECIPES", "DURATION_UNITS", "MODELS", "DATASETS", "MULTISTROKE_DATASETS", "DOLLAR_GDS_SPEEDS", "MMG_DEVICES", "STROKE_ORDERS", "DEFAULT_EPOCHS", "DEVICES", "conflict", "flag_or_saved", "flag_text"]
