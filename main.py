"""DeepNAG command line: train a gesture generator, or evaluate a trained one.

    python main.py --model=DeepNAG --dataset=dollar-gds        # train
    python main.py --resume=logs/<run>/checkpoints/checkpoint-final.pt
    python main.py --evaluate=logs/<run>/checkpoints/checkpoint-best.pt
    python main.py --generate=logs/<run>/checkpoints/checkpoint-best.pt --output=synthetic --num-per-class=100
    tensorboard --logdir logs                                   # monitor

The path of the data: `deepnag/datasets/` reads the files (downloading them if
missing) → `deepnag/preprocessing.py` normalises and resamples →
`deepnag/data.py` batches → `deepnag/models.py` generates → `deepnag/losses.py`
(soft-DTW Hausdorff) → `deepnag/training.py` optimises and writes checkpoints
(`deepnag/checkpoint.py`) and figures (`deepnag/visualize.py`).
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import Sequence

from deepnag.runtime import configure_openmp

configure_openmp()  # before anything imports torch

from deepnag.config import parse_args  # noqa: E402
from deepnag.errors import UserError  # noqa: E402

log = logging.getLogger("deepnag")


def configure_console_logging() -> None:
    """What the console shows: INFO and above from the project, warnings from the rest."""
    root = logging.getLogger()
    for old in [h for h in root.handlers if getattr(h, "deepnag_console", False)]:
        root.removeHandler(old)  # main() called again in the same process (tests)
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(asctime)s %(message)s", datefmt="%H:%M:%S"))
    handler.deepnag_console = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(logging.WARNING)
    # Under torchrun only rank 0 reports progress; other ranks show warnings and errors.
    rank = os.environ.get("RANK", "0")
    # DDP's notice when WGAN-GP's double backward lays out a gradient differently: harmless, not the user's concern.
    warnings.filterwarnings("ignore", message="Grad strides do not match bucket view strides")
    logging.getLogger("deepnag").setLevel(logging.INFO if rank == "0" else logging.WARNING)


def main(argv: Sequence[str] | None = None) -> int:
    """Parse the flags and run the one action they ask for; returns the exit status."""
    configure_console_logging()
    try:
        config, explicit = parse_args(argv)
        if config.evaluate:
            from deepnag.evaluation import evaluate

            evaluate(config, explicit)
        elif config.generate:
            from deepnag.export import generate_command

            generate_command(config, explicit)
        else:
            from deepnag.training import train

            train(config, explicit)
    except UserError as error:
        print(f"error: {error}", file=sys.stderr)
        return error.exit_code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
