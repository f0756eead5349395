"""A small realism study for the tests: a made-up pool of samples (no checkpoint needed), its store and app."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from deepnag.realism.server import Study, create_app
from deepnag.realism.store import Store
from deepnag.realism.trials import Pool

TOKEN = "test-token"


def fake_pool(dataset: str = "dollar-gds", arms: tuple[str, ...] = ("DeepNAG a", "DeepGAN b"), classes: int = 3,
              per_class: int = 4, seed: int = 0) -> Pool:
    """Random walks as pen strokes (dollar-gds, (n, 2)) or 21-joint skeletons (jk2017-kinect, (n, 63))."""
    rng = np.random.default_rng(seed)
    features = 2 if dataset == "dollar-gds" else 63
    kind = "pen" if features == 2 else "skeleton"

    def part() -> tuple[np.ndarray, np.ndarray]:
        samples = np.cumsum(rng.normal(size=(classes * per_class, 16, features)), axis=1).astype(np.float32)
        return samples, np.repeat(np.arange(classes), per_class)

    return Pool(dataset, kind, tuple(f"c{i}" for i in range(classes)), arms, [part() for _ in arms],
                [part() for _ in arms])


def fake_study(folder: Path, pool: Pool | None = None, trials: int = 8, practice: int = 2) -> Study:
    """A study in `folder` (its database there) of `pool`, with the token TOKEN."""
    return Study(pool or fake_pool(), Store(Path(folder) / "study.sqlite"), trials, practice, TOKEN)


def fake_client(folder: Path, **options):
    """The Flask test client of a fake study, and the study."""
    study = fake_study(folder, **options)
    return create_app(study).test_client(), study


@contextlib.contextmanager
def serving(study: Study, threads: int = 16) -> Iterator[str]:
    """The study's app served by waitress (as `--realism-study` serves it) on 127.0.0.1 in a thread; yields its URL."""
    import waitress

    server = waitress.create_server(create_app(study), host="127.0.0.1", port=0, threads=threads)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.effective_port}"
    finally:
        from waitress import wasyncore

        wasyncore.close_all(server._map)  # the listening socket and every open connection (a browser keeps some)
        server.task_dispatcher.shutdown()
        thread.join(timeout=10)
        assert not thread.is_alive(), "the server did not stop"
