"""The training loop shared by DeepNAG and DeepGAN: epochs, logging, best model, checkpoints.

    python main.py --model=DeepNAG --dataset=dollar-gds
    python main.py --resume=logs/<run>/checkpoints/checkpoint-final.pt

SIGINT or SIGTERM lets the current epoch finish, writes a resumable checkpoint
and exits with a line saying how to resume.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import shutil
import signal
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm

from deepnag import checkpoint
from deepnag.actions import ACTIONS, MACHINE
from deepnag.config import Config, flag_text
from deepnag.data import resolve_datapath
from deepnag.data.batches import GestureData, training_data_for
from deepnag.errors import UserError
from deepnag.loss import soft_dtw_cpu, soft_dtw_device
from deepnag.models import sample_latent
from deepnag.progress import Progress
from deepnag.runtime import command, configure_threads, resolve_device
from deepnag.train import distributed, run_dir
from deepnag.train.distributed import Context
from deepnag.train.methods import NonFiniteError, RandomStreams, UnfinishedEpoch, build_method
from deepnag.train.run_dir import CONSOLE_ONLY, FILE_ONLY
from deepnag.train.tensorboard import TensorBoard

log = logging.getLogger(__name__)

# Flags a resumed run may change; any other flag must match the checkpoint's.
RESUMABLE_OVERRIDES = ACTIONS["resume"].may_differ or ()
OUTPUT_FLAGS = ("use_tensorboard", "checkpoint_frequency", "restart_every", "vis_frequency", "eval_every", "logdir",
                "time_limit")
"""What a run writes and when: a run continued from weights only (a shipped generator.pt, whose release turned
TensorBoard and periodic checkpoints off) takes them from its own command line or the defaults."""
MACHINE_FLAGS = MACHINE
"""A resumed run takes the machine's settings from its own command line (or the defaults), so a checkpoint written on
a GPU machine with --device=cuda resumes on a CPU-only one."""
VIS_SAMPLES_PER_CLASS = 8
CONTINUED_SEED_STRIDE = 7919
"""Continuing from a generator-only checkpoint at epoch E reseeds the noise with seed + stride · E."""


class TrainingInterrupted(UserError):
    """Raised after a signal, once the resumable checkpoint is safely written; exits with 128 + signal.

    Not an error: the user asked for it, and the console says "stopped: …".
    """

    label = "stopped"

    def __init__(self, message: str, signum: int) -> None:
        super().__init__(message)
        self.exit_code = 128 + signum


def resolve_config(config: Config, explicit: set[str]) -> tuple[Config, dict[str, Any] | None]:
    """The run's configuration: the flags, or for --resume the checkpoint's with allowed overrides."""
    if not config.resume:
        seed = config.resolved_seed
        return dataclasses.replace(config, seed=seed, epochs=config.num_epochs), None
    state = checkpoint.load(config.resume, dataset=config.dataset if "dataset" in explicit else None)
    if not config.fresh_critic:
        state = checkpoint.with_critic_beside(state, config.resume)
    saved = checkpoint.config_of(state)
    if config.fresh_critic and (saved.model == "DeepNAG" or state["kind"] != "generator"):
        raise UserError(f"--fresh-critic is for a generator-only DeepGAN checkpoint; {config.resume} is a "
                        f"{state['kind']} {saved.model} checkpoint, so resume it without --fresh-critic")
    if state["kind"] == "generator" and saved.model != "DeepNAG" and not config.fresh_critic:
        raise UserError(f"{config.resume} is a generator-only checkpoint; resuming {saved.model} needs its critic, "
                        f"so give a full checkpoint from a run's checkpoints/, a networks.pt, or a generator.pt with its "
                        f"{checkpoint.CRITIC_FILE} beside it, "
                        "or add --fresh-critic to train a new critic against this generator")
    conflicts = [name for name in explicit - set(RESUMABLE_OVERRIDES) if getattr(config, name) != getattr(saved, name)]
    if conflicts:
        flag = conflicts[0].replace("_", "-")
        raise UserError(
            f"--{flag}={flag_text(getattr(config, conflicts[0]))} conflicts with the checkpoint's "
            f"{flag_text(getattr(saved, conflicts[0]))}; "
            "a resumed run keeps its settings (only --epochs and output/runtime flags may change)"
        )
    # A new run from weights (a shared generator.pt) takes this run's own output settings, not the release's.
    own = set(MACHINE_FLAGS) if state["kind"] == "full" else set(MACHINE_FLAGS) | set(OUTPUT_FLAGS)
    overrides = {name: getattr(config, name) for name in (explicit & set(RESUMABLE_OVERRIDES)) | own}
    overrides["resume"] = config.resume
    resumed = dataclasses.replace(saved, **overrides)
    done = int(state.get("epoch", 0))
    if resumed.num_epochs <= done:
        asked = f"--epochs={resumed.num_epochs}" if "epochs" in explicit else f"its --epochs={resumed.num_epochs}"
        raise UserError(f"{config.resume} has already trained {done} epochs, so {asked} leaves nothing to train; "
                        f"give --epochs greater than {done} (e.g. --epochs={done + 1000})")
    return resumed, state


@contextlib.contextmanager
def stop_requests() -> Iterator[list[int]]:
    """Collect SIGINT/SIGTERM instead of dying mid-step; the loop checks the list after each step (DeepNAG in one
    process) or each epoch."""
    received: list[int] = []

    def handler(signum, frame) -> None:  # noqa: ARG001 (signal API)
        if received:  # a second signal: give up at once
            raise KeyboardInterrupt
        received.append(signum)
        log.warning("%s received: stopping after this step (or this epoch), then writing a checkpoint (again to "
                    "quit now)", signal.Signals(signum).name)

    previous = {s: signal.signal(s, handler) for s in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield received
    finally:
        for s, h in previous.items():
            signal.signal(s, h)


@dataclasses.dataclass
class _Clock:
    """A run's time: when this process started training and at which epoch, when its time limit's budget began
    (earlier starts of a restarted job included), and when --eval-every last measured."""

    process_start: float
    start: float
    first_epoch: int
    last_quality: float

    def remaining(self, epoch: int, total: int, limit: float) -> float:
        """Seconds to the end of the run at this process's rate, or to the time limit if that comes first."""
        now = time.perf_counter()
        remaining = (now - self.process_start) / max(1, epoch - self.first_epoch) * (total - epoch)
        return min(remaining, max(0.0, limit - (now - self.start))) if limit else remaining


def _time_is_up(spent: float, epoch_seconds: float, limit: float) -> bool:
    """Stop now rather than start an epoch (as long as the last) that would end more than half of it past the limit.

    So a time-limited run ends within half an epoch of its limit, either side, instead of up to a whole epoch after
    (for methods that do not stop between steps: DeepGAN, several ranks).
    """
    return spent + epoch_seconds / 2 >= limit


def _format_duration(seconds: float) -> str:
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}h{m:02d}m" if h else f"{m}m{s:02d}s"


class Trainer:
    """Runs a method for the configured number of epochs and keeps everything it learns safe."""

    def __init__(self, config: Config, data: GestureData, device: torch.device, path: Path,
                 state: dict[str, Any] | None, context: Context = Context(),
                 quality: Callable[[Config, GestureData], Quality] | None = None, time_spent: float = 0.0) -> None:
        self.config = config
        # Training seconds already spent under --time-limit (a restarted worker group goes on with the rest).
        self.time_spent, self.started = time_spent, time.perf_counter()
        self.restart_checkpoint: Path | None = None  # the checkpoint-last.pt written for torchrun restarts, if any
        # --eval-every: measured quality of the generator (TSTR, …), built from the data on the CPU.
        self.quality = quality(config, data) if quality is not None and config.eval_interval else None
        self.best_quality = -math.inf
        self.data = data.to(device)
        self.device = device
        self.path = path
        self.context = context
        with torch.random.fork_rng(devices=[]):  # seeded initial weights (equal on every rank), no global state
            torch.manual_seed(config.seed)
            self.method = build_method(config, data, device, context)
        self.streams = RandomStreams.seeded(config.seed, device, context.rank)
        self.epoch = 0
        self.best = math.inf
        self.unfinished: UnfinishedEpoch | None = None  # the epoch a time limit stopped between two steps
        if state is not None:
            self._restore(state)
        # A fixed latent for the figures, independent of the training streams.
        fixed = torch.Generator(device=device).manual_seed(config.seed + 2)
        self.vis_labels = torch.arange(data.num_classes, device=device).repeat_interleave(VIS_SAMPLES_PER_CLASS)
        self.vis_latent = sample_latent(len(self.vis_labels), data.seq_len, config.latent_dim, fixed, device)

    def _restore(self, state: dict[str, Any]) -> None:
        if tuple(state["class_names"]) != self.data.class_names:
            raise UserError(f"{self.config.resume}: the data set's classes differ from the checkpoint's")
        self.epoch = int(state["epoch"])
        saved = checkpoint.config_of(state)
        if self.config.stroke_order != saved.stroke_order:  # a fine-tune: the same shapes, strokes in another order
            log.info("from epoch %d the strokes are in --stroke-order=%s (the run's were %s)", self.epoch + 1,
                     self.config.stroke_order, saved.stroke_order)
        if self.config.lr != saved.lr:  # (scripts/make_release reads these lines for the card's command)
            log.info("from epoch %d the learning rate goes on at --lr=%g (the run's was %g)", self.epoch + 1,
                     self.config.lr, saved.lr)
        if state["kind"] == "full":  # the same training goes on; from weights only, a new run keeps its own best
            self.best = float(state["best_loss"])
            self.best_quality = float(state.get("best_quality", -math.inf))
        for name, network in self.method.networks.items():
            if name == checkpoint.TRAINING_GENERATOR and name not in state:  # from weights without --ema's average
                network.load_state_dict(state["generator"])
            elif name in state:
                network.load_state_dict(state[name])
            else:  # only with --fresh-critic (resolve_config refused it otherwise)
                log.info("the %s starts afresh: %s holds no %s", name, self.config.resume, name)
        if state["kind"] != "full":
            # A generator-only or networks-only checkpoint (e.g. a pretrained model): new Adam moments, which with the
            # default betas (0.5, 0.9) settle within a few dozen steps, and noise streams not used before.
            self.streams = RandomStreams.seeded(self.config.seed + CONTINUED_SEED_STRIDE * self.epoch, self.device,
                                                self.context.rank)
            return
        if "unfinished_epoch" in state and self.method.stops_within_epochs:
            self.unfinished = UnfinishedEpoch.from_state(state["unfinished_epoch"])
            log.info("epoch %d goes on after its step %d, where it was stopped", self.epoch + 1,
                     self.unfinished.steps)
        elif "unfinished_epoch" in state:  # several ranks shard the epoch otherwise: its steps done are not theirs
            log.warning("epoch %d, which a time limit stopped after step %d, starts over with new batches",
                        self.epoch + 1, state["unfinished_epoch"]["steps"])
        for name, optimizer in self.method.optimizers.items():
            optimizer.load_state_dict(state["optimizers"][name])
        if "optimisation" in state:  # (absent from checkpoints older than --recipe: no schedule to continue)
            self.method.optimisation.load_state_dict(state["optimisation"])
        if self.config.lr != saved.lr:
            self.method.optimisation.retarget(self.config.lr)
        rng = dict(state["rng"])
        per_rank = rng.pop("latent_ranks", None)
        if self.context.enabled:
            if per_rank is not None and len(per_rank) == self.context.world_size:
                rng["latent"] = per_rank[self.context.rank].clone()  # a row of its own: set_state refuses a view
            elif self.context.rank:
                log.warning("the checkpoint was written by another number of processes: rank %d reseeds its noise",
                            self.context.rank)
                rng["latent"] = self.streams.latent.get_state()
        self.streams.load_state_dict(rng)

    def state(self) -> dict[str, Any]:
        """Everything a resumed run needs, as tensors and plain values only (collective with several ranks)."""
        data = self.data
        rng = self.streams.state_dict()
        if self.context.enabled:
            mine = rng["latent"].to(self.device if self.device.type == "cuda" else "cpu")
            rng["latent_ranks"] = distributed.gather_rows(mine, self.context).cpu()
        return checkpoint.full(
            self.config, class_names=list(data.class_names), display_names=list(data.display_names),
            normalizer_minimum=data.normalizer.minimum, normalizer_maximum=data.normalizer.maximum,
            normalizer_pen=data.normalizer.pen,
            num_features=data.num_features, seq_len=data.seq_len, epoch=self.epoch, best_loss=self.best,
            training_subjects=list(data.subject_names), best_quality=self.best_quality,
            time_spent=self.time_spent + time.perf_counter() - self.started,
            networks={k: n.state_dict() for k, n in self.method.networks.items()},
            optimizers={k: o.state_dict() for k, o in self.method.optimizers.items()},
            optimisation=self.method.optimisation.state_dict(), rng=rng,
            unfinished_epoch=self.unfinished.state_dict() if self.unfinished is not None else None,
        )

    def save(self, name: str) -> Path:
        """Write a checkpoint (rank 0 writes; with several ranks all must call this together)."""
        state, path = self.state(), self.path / "checkpoints" / name
        if self.context.is_main:
            checkpoint.save(state, path)
        return path

    def figure(self) -> np.ndarray:
        """Samples from the fixed latent beside real samples, as an image for TensorBoard."""
        from deepnag import visualize

        generator = self.method.optimisation.sampler
        generator.eval()
        with torch.no_grad():
            fake = generator(self.vis_latent, self.vis_labels).cpu().numpy()
        generator.train()
        data, c, k = self.data, self.data.num_classes, VIS_SAMPLES_PER_CLASS
        fake = data.normalizer.inverse(fake).reshape(c, k, data.seq_len, data.num_features)
        real = np.stack([data.normalizer.inverse(data.samples_of_class(i)[:1].cpu().numpy()) for i in range(c)])
        fig = visualize.samples_figure(fake, real, data.display_names,
                                       skeleton=visualize.skeleton_of(self.config.dataset) or False)
        return visualize.figure_to_array(fig)

    def fit(self) -> None:
        """Train up to the configured epoch count: each epoch a step, its bookkeeping, its checkpoints, then the
        question whether to stop (time limit, signal); a finished run ends with its final checkpoint."""
        self.started = time.perf_counter()
        self.clock = _Clock(process_start=self.started, start=self.started - self.time_spent, first_epoch=self.epoch,
                            last_quality=self.started)
        writer = self._tensorboard()
        if self.device.type == "cpu" and self.config.model == "DeepNAG" and not soft_dtw_cpu.kernels_cached():
            log.info("the first epoch also compiles the soft-DTW kernels (up to a minute, once per machine)")
        try:
            with stop_requests() as stops, logging_redirect_tqdm(), tqdm(
                total=self.config.num_epochs, initial=self.epoch, unit="epoch", disable=None if self.context.is_main
                else True, dynamic_ncols=True, leave=False,
            ) as bar:
                while self.epoch < self.config.num_epochs:
                    tick = time.perf_counter()
                    done = self._train_epoch(stops)
                    if done is None:  # a signal or the time limit came between two steps
                        self._stop_within_epoch(stops)
                        return
                    metrics, per_rank = done
                    improved = self._keep_best(metrics)
                    seconds = time.perf_counter() - tick
                    self._report(metrics, per_rank, seconds, improved, bar, writer)
                    self._checkpoint_periodically()
                    if self._stop(stops, seconds):
                        return
            self._finish()
        except KeyboardInterrupt:
            raise TrainingInterrupted(self._abandoned(), signal.SIGINT) from None
        finally:
            if writer is not None:
                writer.close()

    def _tensorboard(self) -> Any:
        """TensorBoard's writer on rank 0 with --use-tensorboard, continuing an earlier run's curves; else None."""
        if not (self.config.use_tensorboard and self.context.is_main):
            return None
        return TensorBoard(self.path / "tensorboard", purge_step=self.epoch + 1 if self.epoch else None)

    def _train_epoch(self, stops: list[int]) -> tuple[dict[str, float], list[float]] | None:
        """One epoch of the method, its metrics averaged over ranks (and each rank's selection metric); None when
        the time limit stopped it between two steps (kept in `self.unfinished`)."""
        try:
            with Progress(self.method.steps_per_epoch(self.data), f"epoch {self.epoch + 1}", "steps", log,
                          enabled=self.context.is_main) as steps:
                epoch_metrics = self.method.run_epoch(self.data, self.streams, on_step=steps.update,
                                                      stop=lambda: self._over_time(stops), unfinished=self.unfinished)
            self.unfinished = None
            if isinstance(epoch_metrics, UnfinishedEpoch):
                self.unfinished = epoch_metrics
                return None
            metrics, per_rank = self._global(epoch_metrics)
        except NonFiniteError as error:
            raise UserError(
                f"epoch {self.epoch + 1}, {error}; training stopped, the checkpoints in "
                f"{self.path / 'checkpoints'} are untouched (--skip-nonfinite skips such steps)"
            ) from None
        self.epoch += 1
        value = metrics[self.method.selection_metric]
        if not math.isfinite(value):
            raise UserError(
                f"epoch {self.epoch}: {self.method.selection_metric} is {value}; training diverged. The last good "
                f"checkpoints in {self.path / 'checkpoints'} are untouched"
            )
        return metrics, per_rank

    def _over_time(self, stops: list[int]) -> bool:
        """Whether a signal or the time limit ends the run between two steps (for a method that can stop there; the
        others stop after the epoch)."""
        if not self.method.stops_within_epochs:
            return False
        limit = self.config.time_limit
        return bool(stops) or (bool(limit) and time.perf_counter() - self.clock.start >= limit)

    def _keep_best(self, metrics: dict[str, float]) -> bool:
        """Whether the epoch's selection metric is the best yet; with --best-by loss its checkpoint is kept."""
        value = metrics[self.method.selection_metric]
        if value >= self.best:
            return False
        self.best = value
        if self.config.best_by == "loss":
            self.save("checkpoint-best.pt")
        return True

    def _report(self, metrics: dict[str, float], per_rank: list[float], seconds: float, improved: bool, bar: tqdm,
                writer: Any) -> None:
        """The epoch's console line, its log-file line, TensorBoard's scalars and figure, and --eval-every."""
        config, total, key = self.config, self.config.num_epochs, self.method.selection_metric
        value = metrics[key]
        terms = "  ".join(f"{k} {v:.4f}" for k, v in metrics.items() if k != key)
        if self.context.enabled:
            terms += f"  ranks' {key}: " + ", ".join(f"{v:.6f}" for v in per_rank)
        eta = _format_duration(self.clock.remaining(self.epoch, total, config.time_limit))
        star = " *" if improved and config.best_by == "loss" else ""  # * marks what checkpoint-best.pt holds
        # The console gets one short line; the log file (and TensorBoard) the full breakdown.
        log.info("epoch %d/%d  %.1fs  %s %.4f%s  best %.4f  ETA %s", self.epoch, total, seconds, key, value,
                 star, self.best, eta, extra={CONSOLE_ONLY: True})
        log.info("epoch %d/%d  %.2fs  %s %.4f%s  (%s)  best %.4f  ETA %s", self.epoch, total, seconds,
                 key, value, star, terms, self.best, eta, extra={FILE_ONLY: True})
        bar.set_postfix({key: f"{value:.4f}", "best": f"{self.best:.4f}"}, refresh=False)
        bar.update(1)
        if writer is not None:
            for name, v in metrics.items():
                writer.add_scalar(f"train/{name}", v, self.epoch)
            writer.add_scalar(f"train/best_{key}", self.best, self.epoch)
            writer.add_scalar("train/epoch_seconds", seconds, self.epoch)
            if config.vis_frequency and (self.epoch % config.vis_frequency == 0 or self.epoch == 1):
                writer.add_image("samples", self.figure(), self.epoch, dataformats="HWC")
        if self.quality is not None and self._quality_due(self.clock.last_quality):
            self.clock.last_quality = time.perf_counter()
            self._measure_quality(writer)

    def _checkpoint_periodically(self) -> None:
        """--checkpoint-frequency's numbered checkpoints, and under torchrun the one a restart resumes from."""
        config = self.config
        if config.checkpoint_frequency and self.epoch % config.checkpoint_frequency == 0:
            self.save(f"checkpoint-epoch-{self.epoch}.pt")
        if (self.context.enabled and config.restart_every and self.epoch % config.restart_every == 0
                and self.epoch < config.num_epochs):  # what a worker group restarted by torchrun resumes from
            self.restart_checkpoint = self.save("checkpoint-last.pt")

    def _stop(self, stops: list[int], seconds: float) -> bool:
        """True when the time limit ends the run here (checkpoint written); a signal raises TrainingInterrupted."""
        config, total = self.config, self.config.num_epochs
        spent = time.perf_counter() - self.clock.start
        # the user's Ctrl-C or SIGTERM says more than a time limit reached at the same epoch
        # a method that stops between steps goes on to the limit; else an epoch ends the run near it
        up = spent >= config.time_limit if self.method.stops_within_epochs else _time_is_up(spent, seconds,
                                                                                             config.time_limit)
        over_time = bool(config.time_limit) and not stops and up
        if distributed.any_rank(over_time, self.context, self.device) and self.epoch < total:
            path = self.save("checkpoint-last.pt")
            log.info("time limit %s reached after epoch %d of %d (%d in this run); checkpoint %s; "
                     "continue with: %s --resume=%s", _format_duration(config.time_limit), self.epoch,
                     total, self.epoch - self.clock.first_epoch, path, command(), path)
            return True
        if distributed.any_rank(bool(stops), self.context, self.device):
            signum = stops[0] if stops else signal.SIGTERM
            path = self.save("checkpoint-last.pt")
            raise TrainingInterrupted(
                f"{signal.Signals(signum).name} after epoch {self.epoch}, checkpoint written; "
                f"resume with: {command()} --resume={path}",
                signum,
            )
        return False

    def _stop_within_epoch(self, stops: list[int]) -> None:
        """A signal or the time limit came between two steps: the checkpoint holds where the epoch stands, to go on
        from; a signal then raises TrainingInterrupted."""
        path = self.save("checkpoint-last.pt")
        if stops:
            raise TrainingInterrupted(
                f"{signal.Signals(stops[0]).name} in epoch {self.epoch + 1}, after step "
                f"{self.unfinished.steps} of {self.method.steps_per_epoch(self.data)}, checkpoint "  # type: ignore[union-attr]
                f"written; resume with: {command()} --resume={path}", stops[0])
        log.info("time limit %s reached in epoch %d of %d, after step %d of %d (%d epochs done in this run); "
                 "checkpoint %s; continue with: %s --resume=%s", _format_duration(self.config.time_limit),
                 self.epoch + 1, self.config.num_epochs, self.unfinished.steps,  # type: ignore[union-attr]
                 self.method.steps_per_epoch(self.data), self.epoch - self.clock.first_epoch, path, command(), path)

    def _finish(self) -> None:
        """The ranks agree, the final checkpoint is written (the restart one goes), and the last line says so."""
        if self.context.enabled:
            if not distributed.parameters_agree(self.method.generator, self.context, self.device):
                raise UserError("the ranks' generator parameters differ after training; please report this")
            log.info("parameters identical on all %d ranks", self.context.world_size)
        path = self.save("checkpoint-final.pt")
        if self.restart_checkpoint is not None and self.context.is_main:  # superseded by the final checkpoint
            self.restart_checkpoint.unlink(missing_ok=True)
        key = self.method.selection_metric
        best = f"best TSTR {self.best_quality:.4f}" if self.config.best_by == "tstr" else f"best {key} {self.best:.4f}"
        trained = self.epoch - self.clock.first_epoch
        log.info("done: %d epoch%s in this run (%d of %d in all), %s; final checkpoint %s",
                 trained, "" if trained == 1 else "s", self.epoch, self.config.num_epochs, best, path)

    def _quality_due(self, last: float) -> bool:
        """Whether --eval-every asks for a measurement after this epoch (`last`: when the previous one ended)."""
        unit, every = self.config.eval_interval  # type: ignore[misc]
        if unit == "epochs":
            return self.epoch % int(every) == 0
        return time.perf_counter() - last >= every

    def _measure_quality(self, writer: Any) -> None:
        """Log the generator's measured quality; with --best-by tstr a new best TSTR writes checkpoint-best.pt."""
        tick = time.perf_counter()
        figures = self.quality(self.method.optimisation.sampler)  # type: ignore[misc]
        better = figures["tstr"] > self.best_quality
        if better:
            self.best_quality = figures["tstr"]
        log.info("epoch %d quality: TSTR %.4f%s (%.0f%% of the yardstick %.4f), diversity %.3f (real %.3f), "
                 "in %.1f s", self.epoch, figures["tstr"], " *" if better and self.config.best_by == "tstr" else "",
                 100 * figures["tstr_ratio"], figures["yardstick"], figures["diversity_ed"],
                 figures["diversity_ed_real"], time.perf_counter() - tick)
        if writer is not None:
            for name, value in figures.items():
                writer.add_scalar(f"quality/{name}", value, self.epoch)
            writer.add_scalar("quality/best_tstr", self.best_quality, self.epoch)
        if better and self.config.best_by == "tstr":
            self.save("checkpoint-best.pt")

    def _abandoned(self) -> str:
        """What a second Ctrl-C leaves: the epoch under way is lost, every checkpoint written before is kept."""
        folder = self.path / "checkpoints"
        kept = sorted(folder.glob("*.pt"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []
        if not kept:
            return f"at once during epoch {self.epoch + 1}; no checkpoint had been written yet in {folder}"
        names = ", ".join(p.name for p in kept[-4:])
        return (f"at once during epoch {self.epoch + 1}, which is lost; {folder} still holds {names}; "
                f"resume with: {command()} --resume={kept[-1]}")


    def _global(self, metrics: dict[str, float]) -> tuple[dict[str, float], list[float]]:
        """Epoch metrics averaged over ranks, and every rank's value of the selection metric."""
        if not self.context.enabled:
            return metrics, [metrics[self.method.selection_metric]]
        keys = list(metrics)
        rows = distributed.gather_rows(torch.tensor([metrics[k] for k in keys], dtype=torch.float64,
                                                    device=self.device), self.context).cpu()
        index = keys.index(self.method.selection_metric)
        return dict(zip(keys, rows.mean(0).tolist())), rows[:, index].tolist()


def _restart_checkpoint(config: Config) -> str | None:
    """Rank 0's choice after a torchrun restart: the newest complete checkpoint of the run this job started."""
    path = run_dir.of_job(config.logdir, distributed.job_id())
    if path is None:
        return None
    found = run_dir.newest_complete_checkpoint(path)
    return str(found) if found is not None else None


Quality = Callable[[Any], dict[str, float]]
"""A measurement of the generator: generator → {"tstr", "yardstick", "tstr_ratio", "diversity_ed", …}."""


def train(config: Config, explicit: set[str], quality: Callable[[Config, GestureData], Quality] | None = None) -> Path:
    """Train (or resume) the configured model; returns the run directory.

    `quality` builds the --eval-every measurement from the configuration and the training data (the
    command line passes `deepnag.evaluation.monitor.QualityMonitor`).
    """
    threads = configure_threads(config.num_threads)
    context = distributed.setup(config.device)
    finished = False
    try:
        restart = distributed.restart_count() if context.enabled else 0
        if restart:  # torchrun restarted the worker group: every rank resumes from rank 0's choice of checkpoint
            found = distributed.broadcast_text(_restart_checkpoint(config) if context.is_main else None, context)
            if found:
                config, explicit = dataclasses.replace(config, resume=found), explicit | {"resume"}
        config, state = resolve_config(config, explicit)
        _warn_if_superseded(config.resume, state)
        device = resolve_device(config.device)
        if device.type == "cuda" and context.enabled:
            device = torch.device("cuda", context.local_rank)
        if config.model == "DeepNAG":
            soft_dtw_device.check(device)  # a kernel that does not run on this GPU fails now, not after loading data
        # The same run continues where its checkpoint lies in its run directory; a full checkpoint moved elsewhere,
        # like weights only, starts a new run directory under --logdir.
        same_run = state is not None and state["kind"] == "full" and run_dir.of_checkpoint(config.resume) is not None
        data = training_data_for(config)  # before any run directory: a start that fails here leaves nothing behind
        path = _run_directory(config, same_run, restart, context)
        logs = run_dir.log_to_file(path / "logs" / "train.log") if context.is_main else contextlib.nullcontext()
        with logs:
            _say_where(config, explicit, state, path, same_run, restart, context)
            log.info("%s: %d samples, %d classes, %d features, %d points each (from %s); %s on %s, %d threads%s",
                     config.dataset, len(data), data.num_classes, data.num_features, data.seq_len,
                     resolve_datapath(config.datapath).resolve(),
                     config.model, device, threads,
                     f", {context.world_size} processes (batch {config.batch_size} per process)" if context.enabled else "")
            try:
                spent = float(state.get("time_spent", 0.0)) if restart and state is not None else 0.0
                trainer = Trainer(config, data, device, path, state, context, quality, time_spent=spent)
            except UserError:
                if not same_run and context.is_main:  # nothing trained yet: leave no empty run directory
                    shutil.rmtree(path, ignore_errors=True)
                raise
            try:
                trainer.fit()
            except TrainingInterrupted as stopped:  # the console's last line, in the log too (`| tee` dies first)
                log.info("stopped: %s", stopped, extra={FILE_ONLY: True})
                raise
            if context.enabled and context.is_main:  # the job is done: no restart will look for its run any more
                run_dir.forget_job(config.logdir, distributed.job_id())
        finished = True
        return path
    finally:
        distributed.teardown(context, finished)


def _warn_if_superseded(resume: str | None, state: dict[str, Any] | None) -> None:
    """A warning when the checkpoint resumed is older than the run's own final checkpoint beside it."""
    if not resume or state is None or Path(resume).name == "checkpoint-final.pt":
        return
    final = Path(resume).with_name("checkpoint-final.pt")
    if final.is_file():
        newer = checkpoint.load(final).get("epoch", 0)
        if newer > state.get("epoch", 0):
            log.warning("%s beside it holds epoch %d, newer than this checkpoint's %d: resume that one to go on from "
                        "where the run ended", final, newer, state["epoch"])


def _run_directory(config: Config, same_run: bool, restart: int, context: Context) -> Path:
    """The run directory, chosen by rank 0 (the checkpoint's own, or a new one) and known to every rank; a torchrun
    job notes it for its restarts."""
    path = None
    if context.is_main:
        if same_run:
            path = run_dir.of_checkpoint(config.resume)
            run_dir.check_writable(path)
        else:
            path = run_dir.create(config.logdir, config.dataset, config.model, config.experiment_name)
    path = Path(distributed.broadcast_text(str(path), context))
    if context.enabled and context.is_main and not restart:
        run_dir.remember_for_restarts(config.logdir, distributed.job_id(), path)
    return path


def _say_where(config: Config, explicit: set[str], state: dict[str, Any] | None, path: Path, same_run: bool,
               restart: int, context: Context) -> None:
    """The log's first lines: which run directory, continued from what; a new run's config.json."""
    if restart:
        log.info("restart %d: %s", restart, f"resuming from epoch {state['epoch']} ({config.resume})"
                 if config.resume and state is not None else "no checkpoint of this run yet, starting it again")
    if same_run:
        log.info("resuming %s from epoch %d (writing into that run directory%s)", path, state["epoch"],
                 "; --logdir applies to new runs only" if "logdir" in explicit else "")
        return
    log.info("run directory %s", path)
    if context.is_main:
        run_dir.save_config(path, config.to_dict())
    if state is not None and state["kind"] != "full":
        log.info("continuing the %s-only checkpoint %s from epoch %d with a new optimiser and noise",
                 state["kind"], config.resume, state["epoch"])
        if "critic_from" in state:
            log.info("the critic comes from %s beside it", state["critic_from"])
    elif state is not None:
        log.info("continuing %s from epoch %d in a new run directory (it is not inside a run's "
                 "checkpoints/ folder)", config.resume, state["epoch"])
