"""Networks: the double-backward GRU equals torch.nn.GRU; generator and critic shapes."""

from __future__ import annotations

import torch

from deepnag.models import Critic, DifferentiableGRU, Generator


def _copied(input_size: int, hidden: int, dtype=torch.float32) -> tuple[DifferentiableGRU, torch.nn.GRU]:
    torch.manual_seed(0)
    ours = DifferentiableGRU(input_size, hidden).to(dtype)
    reference = torch.nn.GRU(input_size, hidden, batch_first=True).to(dtype)
    reference.load_state_dict(ours.state_dict())  # same names and shapes
    return ours, reference


def test_gru_layer_equals_torch_gru_outputs_and_gradients():
    ours, reference = _copied(5, 7)
    x = torch.randn(3, 11, 5)
    x1, x2 = x.clone().requires_grad_(), x.clone().requires_grad_()
    out1, h1 = ours(x1)
    out2, h2 = reference(x2)
    assert (out1 - out2).abs().max() <= 1e-5 and (h1 - h2).abs().max() <= 1e-5
    weights = torch.randn_like(out1)
    (out1 * weights).sum().backward()
    (out2 * weights).sum().backward()
    assert (x1.grad - x2.grad).abs().max() <= 1e-5
    for name, p in ours.named_parameters():
        assert (p.grad - dict(reference.named_parameters())[name].grad).abs().max() <= 1e-5, name


def test_gru_layer_supports_double_backward():
    ours, _ = _copied(2, 3, torch.float64)
    x = torch.randn(2, 4, 2, dtype=torch.float64, requires_grad=True)
    assert torch.autograd.gradgradcheck(lambda t: ours(t)[0], (x,))


def test_generator_and_critic_shapes():
    generator = Generator(num_classes=4, num_features=3, latent_dim=5)
    labels = torch.tensor([0, 3])
    fake = generator(torch.randn(2, 9, 5), labels)
    assert fake.shape == (2, 9, 3) and fake.abs().max() < 1
    assert [g.hidden_size for g in generator.grus] == [128, 256, 512]
    critic = Critic(num_classes=4, num_features=3)
    assert critic(fake, labels).shape == (2,)
    assert [g.hidden_size for g in critic.grus] == [512, 256, 128]
