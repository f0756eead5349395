"""Training methods: what one epoch of DeepNAG or DeepGAN does to its networks.

A method owns its networks and optimisers and runs one epoch given the data and
the random streams; the loop around it (`deepnag/train/loop.py`) is shared. For
DeepNAG an epoch is one pass over the shuffled training set; for DeepGAN it is
one generator step (as the reference counts them).
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

import torch
from torch import nn

from deepnag.checkpoint import TRAINING_GENERATOR
from deepnag.config import Config
from deepnag.data.batches import GestureData
from deepnag.loss.objective import deepnag_loss, mix, penalty_from
from deepnag.models import Critic, Generator, sample_latent
from deepnag.train import distributed
from deepnag.train.averaging import WeightAverage
from deepnag.train.cuda_graph import GraphedBackward
from deepnag.train.distributed import Context

log = logging.getLogger(__name__)

LATENT_SEED_STRIDE = 104_729  # rank r's latent stream is seeded with seed + 1 + stride * r


def _nothing() -> None:
    """The default step callback."""


@dataclass
class RandomStreams:
    """Every source of randomness of a run, so a resumed run continues them exactly."""

    data: torch.Generator  # batches and partners (CPU)
    latent: torch.Generator  # latent noise and WGAN-GP mixing (on the training device)

    @classmethod
    def seeded(cls, seed: int, device: torch.device, rank: int = 0) -> "RandomStreams":
        """Data order is shared by all ranks (each takes its shard); latent noise differs per rank."""
        latent_seed = seed + 1 + LATENT_SEED_STRIDE * rank
        return cls(torch.Generator().manual_seed(seed), torch.Generator(device=device).manual_seed(latent_seed))

    def state_dict(self) -> dict[str, torch.Tensor]:
        return {"data": self.data.get_state(), "latent": self.latent.get_state()}

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        self.data.set_state(state["data"])
        self.latent.set_state(state["latent"].cpu() if self.latent.device.type == "cpu" else state["latent"])


def _adam(module: nn.Module, config: Config) -> torch.optim.Adam:
    return torch.optim.Adam(module.parameters(), lr=config.lr, betas=(config.beta0, config.beta1))


def _warmup(optimizer: torch.optim.Optimizer, config: Config) -> torch.optim.lr_scheduler.LRScheduler:
    """--lr-warmup: the learning rate rises linearly to --lr over that many steps, then stays (none: constant)."""
    steps = max(config.lr_warmup, 1)
    return torch.optim.lr_scheduler.LinearLR(optimizer, start_factor=1.0 / steps, total_iters=steps - 1)


class Optimisation:
    """What a method adds to its networks for training: schedules and the generator's weight average.

    Holds the learning-rate schedule of every optimiser and, with --ema, the moving
    average that `sampler` (the network to sample from) returns; `state_dict` is
    what a resumed run needs of them.
    """

    def __init__(self, config: Config, generator: nn.Module, optimizers: dict[str, torch.optim.Optimizer]) -> None:
        self.generator = generator
        self.schedules = {name: _warmup(o, config) for name, o in optimizers.items()}
        self.average = WeightAverage(generator, config.ema) if config.ema else None

    @property
    def sampler(self) -> nn.Module:
        """The generator to sample from: the weight average with --ema, else the trained weights."""
        return self.average.module if self.average is not None else self.generator

    def stepped(self, name: str) -> None:
        """After a successful step of optimiser `name`: advance its schedule (and the average, for the generator)."""
        self.schedules[name].step()
        if name == "generator" and self.average is not None:
            self.average.update(self.generator)

    def networks(self) -> dict[str, nn.Module]:
        """The generator's entries of a checkpoint: "generator" holds what sampling uses, the average with --ema."""
        if self.average is None:
            return {"generator": self.generator}
        return {"generator": self.average.module, TRAINING_GENERATOR: self.generator}

    def state_dict(self) -> dict[str, Any]:
        return {"schedules": {k: s.state_dict() for k, s in self.schedules.items()},
                "average_updates": self.average.updates if self.average is not None else 0}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        for name, schedule in self.schedules.items():
            schedule.load_state_dict(state["schedules"][name])
        if self.average is not None:
            self.average.updates = int(state["average_updates"])

    def retarget(self, lr: float) -> None:
        """--lr given to --resume: every optimiser's target rate becomes `lr`, its current one scaled alike (a warm-up
        under way goes on towards the new rate), e.g. to go on at a lower rate once the loss has levelled off."""
        for schedule in self.schedules.values():
            for i, group in enumerate(schedule.optimizer.param_groups):
                group["lr"] *= lr / schedule.base_lrs[i]
                group["initial_lr"] = schedule.base_lrs[i] = lr


class NonFiniteError(Exception):
    """A loss or gradient became NaN or infinite at `step` (1-based, within the epoch)."""

    def __init__(self, step: int, what: str) -> None:
        super().__init__(f"step {step}: {what}")
        self.step = step
        self.what = what


def finite_update(optimizer: torch.optim.Optimizer, loss: torch.Tensor, step: int, name: str, skip: bool,
                  context: Context = Context()) -> bool:
    """Backpropagate `loss` and step `optimizer` only if the loss and every gradient are finite (`step_if_finite`)."""
    optimizer.zero_grad(set_to_none=True)
    loss.backward()
    return step_if_finite(optimizer, loss, step, name, skip, context)


def step_if_finite(optimizer: torch.optim.Optimizer, loss: torch.Tensor, step: int, name: str, skip: bool,
                   context: Context = Context()) -> bool:
    """Step `optimizer` on the gradients already computed, only if `loss` and every gradient are finite.

    Otherwise raise NonFiniteError, or with `skip` leave the parameters untouched
    and return False (the next backward pass overwrites the gradients). The decision
    is taken jointly by all ranks (DDP needs every rank to run the backward pass),
    with one device sync per update.
    """
    grads = [p.grad for group in optimizer.param_groups for p in group["params"] if p.grad is not None]
    loss_ok = torch.isfinite(loss.detach())
    ok = distributed.all_ranks(loss_ok & torch.isfinite(torch.stack(torch._foreach_norm(grads))).all(), context)
    if ok:
        optimizer.step()
        return True
    what = f"a gradient of {name} is not finite" if loss_ok else f"{name} is {loss.item()}"
    if not skip:
        raise NonFiniteError(step, what)
    log.warning("skipping step %d: %s (--skip-nonfinite)", step, what)
    return False


def autocast(config: Config, device: torch.device):
    """bfloat16 autocast for the networks' forward passes with --amp bf16; a no-op otherwise."""
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=config.amp == "bf16")


def _wrap(module: nn.Module, context: Context, device: torch.device) -> nn.Module:
    """The module DDP-wrapped when training with several processes (gradients averaged over ranks)."""
    if not context.enabled:
        return module
    from torch.nn.parallel import DistributedDataParallel

    return DistributedDataParallel(module, device_ids=[device.index] if device.type == "cuda" else None)


def _mean(history: list[dict[str, torch.Tensor]]) -> dict[str, float]:
    """Epoch means of per-step metrics, with one device sync for all of them."""
    keys = list(history[0])
    stacked = torch.stack([torch.stack([step[k] for k in keys]) for step in history]).mean(0)
    return dict(zip(keys, stacked.tolist()))


@dataclass
class UnfinishedEpoch:
    """An epoch stopped between two steps (by the time limit): the data stream as the epoch began, the steps done
    and their metrics. A resumed run draws the epoch's batches again from that state, skips the steps done and
    goes on, so that it trains exactly as a run that never stopped."""

    data_state: torch.Tensor
    steps: int
    history: list[dict[str, Any]]

    def state_dict(self) -> dict[str, Any]:
        keys = list(self.history[0]) if self.history else []
        return {"data_state": self.data_state, "steps": self.steps,
                "history": {k: [float(step[k]) for step in self.history] for k in keys}}

    @classmethod
    def from_state(cls, state: dict[str, Any]) -> "UnfinishedEpoch":
        history = state["history"]
        steps = len(next(iter(history.values()))) if history else 0
        return cls(state["data_state"], int(state["steps"]),
                   [{k: values[i] for k, values in history.items()} for i in range(steps)])


def _never() -> bool:
    """The default stop question: never stop within an epoch."""
    return False


@runtime_checkable
class TrainingMethod(Protocol):
    """What the training loop asks of a method: its networks and optimisers (for checkpoints), one epoch's work,
    and the epoch metric by which its best model is chosen (lower is better)."""

    name: str
    selection_metric: str
    stops_within_epochs: bool  # whether run_epoch honours `stop` between its steps (else only epochs end a run)
    generator: nn.Module
    networks: dict[str, nn.Module]
    optimizers: dict[str, torch.optim.Optimizer]
    optimisation: Optimisation

    def steps_per_epoch(self, data: GestureData) -> int:
        """How many times `run_epoch` calls its `on_step` (the console's progress total)."""

    def run_epoch(self, data: GestureData, streams: RandomStreams, on_step: Callable[[], None] = _nothing,
                  stop: Callable[[], bool] = _never, unfinished: UnfinishedEpoch | None = None
                  ) -> dict[str, float] | UnfinishedEpoch:
        """One epoch: updates the networks, returns the epoch's metrics (the selection metric among them), or
        where it stopped when `stop()` ended it early; `unfinished` continues such an epoch."""


class DeepNAGMethod:
    """DeepNAG's step (METHOD.md §3): soft-DTW Hausdorff loss between real and generated batches."""

    name = "DeepNAG"
    selection_metric = "loss"  # the best model has the lowest epoch-mean loss

    def __init__(self, config: Config, data: GestureData, device: torch.device, context: Context = Context()) -> None:
        self.config = config
        self.device = device
        self.context = context
        self.generator = Generator(data.num_classes, data.num_features, config.latent_dim).to(device)
        self.trained_generator = _wrap(self.generator, context, device)
        self.optimizers = {"generator": _adam(self.generator, config)}
        self.optimisation = Optimisation(config, self.generator, self.optimizers)
        self.networks: dict[str, nn.Module] = self.optimisation.networks()
        self.stops_within_epochs = not context.enabled  # several ranks would have to agree at every step

    def step(self, real_1, labels, real_2, streams: RandomStreams, number: int = 1) -> dict[str, torch.Tensor] | None:
        """One optimiser step on one batch; returns the detached loss terms (None if skipped)."""
        batch, length = real_1.shape[:2]
        z1 = sample_latent(batch, length, self.config.latent_dim, streams.latent, self.device)
        z2 = sample_latent(batch, length, self.config.latent_dim, streams.latent, self.device)
        with autocast(self.config, self.device):
            fake_1 = self.trained_generator(z1, labels)
            with torch.no_grad():
                fake_2 = self.generator(z2, labels)
        fake_1, fake_2 = fake_1.float(), fake_2.float()  # the soft-DTW loss runs in float32
        loss, metrics = deepnag_loss(real_1, real_2, fake_1, fake_2, labels, gamma=self.config.gamma,
                                     diversity_weight=self.config.diversity_weight)
        if not finite_update(self.optimizers["generator"], loss, number, "the loss", self.config.skip_nonfinite,
                             self.context):
            return None
        self.optimisation.stepped("generator")
        return metrics

    def steps_per_epoch(self, data: GestureData) -> int:
        world = self.context.world_size
        return -(-((len(data) - len(data) % world) // world) // self.config.batch_size)

    def run_epoch(self, data: GestureData, streams: RandomStreams, on_step: Callable[[], None] = _nothing,
                  stop: Callable[[], bool] = _never, unfinished: UnfinishedEpoch | None = None
                  ) -> dict[str, float] | UnfinishedEpoch:
        """One pass over the shuffled data; `on_step` is called after each step (the console's progress).

        When `stop()` says so after a step that is not the last, the epoch ends there, returned as an
        UnfinishedEpoch; given back as `unfinished`, the epoch goes on where it stopped.
        """
        self.generator.train()
        if unfinished is not None:
            streams.data.set_state(unfinished.data_state)
        start = streams.data.get_state()
        history = [] if unfinished is None else [  # the steps done before the stop, as this run's own
            {k: torch.as_tensor(v, dtype=torch.float32, device=self.device) for k, v in step.items()}
            for step in unfinished.history]
        done = unfinished.steps if unfinished is not None else 0
        total = self.steps_per_epoch(data)
        batches = data.batches(self.config.batch_size, streams.data, self.context.rank, self.context.world_size)
        for number, batch in enumerate(batches, start=1):
            if number <= done:  # drawn again (the data stream's draws stay those of the stopped epoch), not run
                continue
            metrics = self.step(*batch, streams, number=number)
            on_step()
            if metrics is not None:
                history.append(metrics)
            if number < total and stop():
                return UnfinishedEpoch(start, number, history)
        if not history:
            raise NonFiniteError(number, "every step of the epoch was skipped")
        return _mean(history)


class DeepGANMethod:
    """DeepGAN's (WGAN-GP) step (METHOD.md §5): `critic_iters` critic updates, then one generator update."""

    name = "DeepGAN"
    selection_metric = "neg_loss_d"  # the best model has the lowest −loss_d

    def __init__(self, config: Config, data: GestureData, device: torch.device, context: Context = Context()) -> None:
        self.config = config
        self.device = device
        self.context = context
        self.generator = Generator(data.num_classes, data.num_features, config.latent_dim).to(device)
        self.critic = Critic(data.num_classes, data.num_features).to(device)
        self.trained_generator = _wrap(self.generator, context, device)
        self.trained_critic = _wrap(self.critic, context, device)
        self.optimizers = {"generator": _adam(self.generator, config), "critic": _adam(self.critic, config)}
        self.optimisation = Optimisation(config, self.generator, self.optimizers)
        self.networks = {**self.optimisation.networks(), "critic": self.critic}
        # One process on a GPU: the critic step is launch-bound, so it is captured once and replayed.
        self.use_cuda_graph = device.type == "cuda" and not context.enabled and config.amp == "none"
        self.critic_graph: GraphedBackward | None = None

    def _fake(self, labels: torch.Tensor, length: int, streams: RandomStreams) -> torch.Tensor:
        z = sample_latent(labels.shape[0], length, self.config.latent_dim, streams.latent, self.device)
        return self.generator(z, labels)

    def _critic_loss(self, real: torch.Tensor, fake: torch.Tensor, labels: torch.Tensor, alpha: torch.Tensor,
                     cudnn: bool = True) -> dict[str, torch.Tensor]:
        """WGAN-GP's critic loss ("loss") and its parts for one batch, graph kept for backward.

        Free of host syncs and random draws, so that it can be captured in a CUDA graph
        (with `cudnn=False`: cuDNN's RNN is kept out of graphs).
        """
        mixed = mix(real, fake, alpha)
        if self.context.enabled:  # DDP wants one forward per backward: real, fake and mixed together
            scores = self.trained_critic(torch.cat([real, fake, mixed]), labels.repeat(3),
                                         twice_differentiable=True).split(len(labels))
        else:  # the penalty's double backward then runs through the mixed samples only (3x cheaper)
            scores = (*self.critic(torch.cat([real, fake]), labels.repeat(2),
                                   twice_differentiable=not cudnn).split(len(labels)),
                      self.critic(mixed, labels, twice_differentiable=True))
        d_real, d_fake = scores[0].mean(), scores[1].mean()
        penalty = penalty_from(scores[2], mixed)
        loss_d = d_fake - d_real + self.config.deepgan_lambda * penalty
        return {"loss": loss_d, "loss_d_real": d_real, "loss_d_fake": d_fake, "wasserstein": d_real - d_fake,
                "gradient_penalty": penalty}

    def _critic_gradients(self, *batch: torch.Tensor) -> dict[str, torch.Tensor]:
        """The critic loss's parts, with its gradients in the critic's .grad (replaying a CUDA graph where used)."""
        if self.use_cuda_graph and self.critic_graph is None:
            loss = functools.partial(self._critic_loss, cudnn=False)
            try:
                self.critic_graph = GraphedBackward(loss, list(self.critic.parameters()), batch)
                log.info("DeepGAN's critic step runs as a CUDA graph")
            except RuntimeError as error:  # a driver or build that cannot capture it: slower, still correct
                self.use_cuda_graph = False
                log.warning("could not capture DeepGAN's critic step as a CUDA graph (%s); running it eagerly",
                            str(error).splitlines()[0] if str(error) else type(error).__name__)
        if self.critic_graph is not None:
            return self.critic_graph(*batch)
        self.optimizers["critic"].zero_grad(set_to_none=True)
        parts = self._critic_loss(*batch)
        parts["loss"].backward()
        return {name: value.detach() for name, value in parts.items()}

    def steps_per_epoch(self, data: GestureData) -> int:
        return self.config.deepgan_critic_iters + 1

    stops_within_epochs = False  # an epoch is one generator step

    def run_epoch(self, data: GestureData, streams: RandomStreams, on_step: Callable[[], None] = _nothing,
                  stop: Callable[[], bool] = _never, unfinished: UnfinishedEpoch | None = None) -> dict[str, float]:
        """`critic_iters` critic steps and one generator step; `on_step` is called after each (`stop` and
        `unfinished` are not used: an epoch is one generator step)."""
        self.generator.train()
        self.critic.train()
        history = []
        for _ in range(self.config.deepgan_critic_iters):
            real, labels, _ = data.random_batch(self.config.batch_size, streams.data)
            with torch.no_grad():
                fake = self._fake(labels, real.shape[1], streams)
            alpha = torch.rand(real.shape[0], generator=streams.latent, device=self.device)
            parts = self._critic_gradients(real, fake, labels, alpha)
            loss_d = parts.pop("loss")
            if step_if_finite(self.optimizers["critic"], loss_d, 1, "the critic loss", self.config.skip_nonfinite,
                              self.context):
                self.optimisation.stepped("critic")
                history.append({"loss_d": loss_d, "neg_loss_d": -loss_d, **parts})
            on_step()
        if not history:
            raise NonFiniteError(1, "every critic step was skipped")
        metrics = _mean(history[-1:])  # the critic's state after its last step, as the reference reports
        self.critic.requires_grad_(False)  # the generator step needs no critic gradients
        try:
            z = sample_latent(len(labels), real.shape[1], self.config.latent_dim, streams.latent, self.device)
            loss_g = -self.critic(self.trained_generator(z, labels), labels).mean()
            if finite_update(self.optimizers["generator"], loss_g, 1, "the generator loss", self.config.skip_nonfinite,
                             self.context):
                self.optimisation.stepped("generator")
        finally:
            self.critic.requires_grad_(True)
        on_step()
        metrics["loss_g"] = loss_g.item()
        return metrics


METHODS: dict[str, Callable[..., TrainingMethod]] = {"DeepNAG": DeepNAGMethod, "DeepGAN": DeepGANMethod}


def build_method(config: Config, data: GestureData, device: torch.device, context: Context = Context()) -> TrainingMethod:
    """The training method named by `config.model`, with fresh networks and optimisers."""
    return METHODS[config.model](config, data, device, context)
