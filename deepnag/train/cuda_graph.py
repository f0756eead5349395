"""A loss and its backward pass captured once as a CUDA graph and replayed every step.

DeepGAN's critic step (three GRU layers unrolled over 64 steps, differentiated
twice for WGAN-GP's penalty) is tens of thousands of tiny kernels: on a GPU the
CPU's launching, not the GPU, sets its speed. Replaying a captured graph launches
them all at once. The captured function must be free of host syncs and random
draws; its inputs are copied into fixed tensors before every replay.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch

LossFn = Callable[..., dict[str, torch.Tensor]]


class GraphedBackward:
    """`fn(*inputs)` (a dict holding "loss") and `loss.backward()` into `params`' .grad, as one CUDA graph.

    Calling it with new inputs of the captured shapes replays the graph: every
    parameter's .grad is overwritten (not accumulated) and the returned dict holds
    fresh copies of fn's outputs, detached.
    """

    def __init__(self, fn: LossFn, params: Sequence[torch.nn.Parameter], example_inputs: Sequence[torch.Tensor],
                 warmup: int = 3) -> None:
        self.params = list(params)
        self.inputs = [x.detach().clone() for x in example_inputs]
        side = torch.cuda.Stream()
        side.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(side):  # lazy initialisations (cuBLAS handles, autograd) happen outside capture
            for _ in range(warmup):
                self._zero_grads()
                fn(*self.inputs)["loss"].backward()
        torch.cuda.current_stream().wait_stream(side)
        self._zero_grads()  # backward then allocates .grad in the graph's memory pool: fixed addresses
        self.graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(self.graph):
            outputs = fn(*self.inputs)
            outputs["loss"].backward()
        self.outputs = {name: value.detach() for name, value in outputs.items()}
        self.grads = [p.grad for p in self.params]

    def _zero_grads(self) -> None:
        for p in self.params:
            p.grad = None

    def __call__(self, *inputs: torch.Tensor) -> dict[str, torch.Tensor]:
        for fixed, new in zip(self.inputs, inputs, strict=True):
            fixed.copy_(new)
        self.graph.replay()
        for p, grad in zip(self.params, self.grads):
            p.grad = grad  # the graph's gradient tensors, even if someone set .grad to None meanwhile
        return {name: value.clone() for name, value in self.outputs.items()}
