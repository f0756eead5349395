"""DeepNAG command line: train a gesture generator, or evaluate a trained one.

    python main.py --model=DeepNAG --dataset=dollar-gds        # train
    python main.py --resume=logs/<run>/checkpoints/checkpoint-final.pt
    python main.py --evaluate=logs/<run>/checkpoints/checkpoint-best.pt
    python main.py --generate=logs/<run>/checkpoints/checkpoint-best.pt --output=synthetic --num-per-class=100
    tensorboard --logdir logs                                   # monitor

The path of the data: `deepnag/data/` reads the files (downloading them if
missing) → `deepnag/data/preprocessing.py` normalises and resamples →
`deepnag/data/batches.py` batches → `deepnag/models.py` generates → `deepnag/loss/objective.py`
(soft-DTW Hausdorff) → `deepnag/train/loop.py` optimises and writes checkpoints
(`deepnag/checkpoint.py`) and figures (`deepnag/visualize.py`).
"""

from __future__ import annotations

from deepnag.runtime import configure_openmp

configure_openmp()  # before anything imports torch

from deepnag.cli import main, run  # noqa: E402, F401 (main: the tests' and the API's entry)

if __name__ == "__main__":
    run()
