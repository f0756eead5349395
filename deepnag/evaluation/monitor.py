"""Quality while training (`--eval-every`): TSTR against the real-data yardstick, and diversity, of the generator now.

The loss says how well the generator fits its batches, not whether its samples
are useful. At every `--eval-every` point the training loop calls a
`QualityMonitor`: `--num-per-class` samples per class from a fixed latent (so
successive figures differ only by the weights), the standard recogniser trained
on them and tested on real samples, beside the yardstick (`metrics.
subject_disjoint_yardstick`, computed once) and the diversity of the samples
beside the real one. The real test samples are the writers the run holds out
when it holds any out (`--subjects` and friends), else its own training samples
(then TSTR is measured on writers the generator has seen; the log says so).

The command line builds the monitor and hands it to the loop, so training never
imports evaluation code.
"""

from __future__ import annotations

import logging
import time

import numpy as np
import torch

from deepnag.config import Config
from deepnag.data import load_raw
from deepnag.data.batches import GestureData, real_part
from deepnag.evaluation.metrics import intra_class_distance, subject_disjoint_yardstick
from deepnag.generate.sampling import generate
from deepnag.models import Generator
from deepnag.recognition.recognizers import accuracy, recognizer_for

log = logging.getLogger(__name__)


class QualityMonitor:
    """Measures a generator during training; `monitor(generator)` → {"tstr", "yardstick", "tstr_ratio", …}."""

    def __init__(self, config: Config, data: GestureData) -> None:
        self.config, self.data = config, data
        started = time.perf_counter()
        data = real_part(data, config)  # the real samples are the test and the diversity to match, not their variants
        every = load_raw(config.dataset, config.datapath, speeds=config.speeds, mmg_device=config.mmg_device,
                         download_url=config.download_url, subject_pattern=config.subject_pattern).select(config.classes)
        held_out = np.flatnonzero(~np.isin(np.asarray(every.subjects), list(data.subject_names)))
        if len(held_out):
            self.test = [every.sequences[i] for i in held_out]
            self.test_labels = every.labels[held_out]
            self.test_is = f"{len(set(every.subjects[i] for i in held_out))} held-out writers"
        else:
            self.test = list(data.normalizer.inverse(data.samples.cpu().numpy()))
            self.test_labels = data.labels.cpu().numpy()
            self.test_is = "the training writers (none held out)"
        self.yardstick = (subject_disjoint_yardstick(
            every.sequences, every.labels, every.subjects, data.num_features, config.seed,
            recognizer_for(data.num_features, dataset=config.dataset)) if len(set(every.subjects)) > 1 else float("nan"))
        self.labels = torch.arange(data.num_classes).repeat_interleave(config.num_per_class)
        self.real_diversity, _ = intra_class_distance(data.samples.cpu(), data.labels.cpu(), "ed", config.gamma,
                                                      config.seed)
        log.info("quality every %s: TSTR on %s, yardstick %.4f (prepared in %.1f s)", config.eval_every,
                 self.test_is, self.yardstick, time.perf_counter() - started)

    def __call__(self, generator: Generator) -> dict[str, float]:
        """The figures for the generator's current weights (it is put back in training mode)."""
        was_training = generator.training
        generator.eval()
        try:
            fake = generate(generator, self.labels, self.data.seq_len, self.config.seed + 3)
        finally:
            generator.train(was_training)
        in_units = self.data.normalizer.inverse(fake)
        tstr = accuracy(list(in_units), self.labels.numpy(), self.test, self.test_labels, self.data.num_features,
                        dataset=self.config.dataset)
        diversity, _ = intra_class_distance(torch.from_numpy(fake).float(), self.labels, "ed", self.config.gamma,
                                            self.config.seed)
        return {"tstr": tstr, "yardstick": self.yardstick, "tstr_ratio": tstr / self.yardstick,
                "diversity_ed": diversity, "diversity_ed_real": self.real_diversity}


__all__ = ["QualityMonitor"]
