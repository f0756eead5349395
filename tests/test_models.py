"""Networks: the double-backward GRU equals torch.nn.GRU; generator and critic shapes; WGAN-GP."""

from __future__ import annotations

import torch

from deepnag.loss.objective import equal_spacing_loss, gradient_penalty
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


def test_gradient_penalty_matches_finite_differences():
    torch.manual_seed(1)

    class Tiny(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.gru = DifferentiableGRU(3, 4)
            self.head = torch.nn.Linear(4, 1)

        def forward(self, x, labels, twice_differentiable=False):
            return self.head(self.gru(x, twice_differentiable)[0][:, -1]).squeeze(-1) * (1 + labels)

    critic = Tiny().double()
    real, fake = torch.randn(2, 5, 3, dtype=torch.float64), torch.randn(2, 5, 3, dtype=torch.float64)
    labels = torch.tensor([0.0, 1.0], dtype=torch.float64)
    alpha = torch.tensor([0.3, 0.8], dtype=torch.float64)
    penalty = gradient_penalty(critic, real, fake, labels, alpha)
    mixed = alpha[:, None, None] * real + (1 - alpha[:, None, None]) * fake
    eps, norms = 1e-6, []
    for b in range(2):
        grad = torch.zeros(5, 3, dtype=torch.float64)
        for idx in torch.cartesian_prod(torch.arange(5), torch.arange(3)):
            up, down = mixed.clone(), mixed.clone()
            up[b, idx[0], idx[1]] += eps
            down[b, idx[0], idx[1]] -= eps
            grad[idx[0], idx[1]] = (critic(up, labels)[b] - critic(down, labels)[b]) / (2 * eps)
        norms.append(grad.norm())
    expected = torch.stack([(n - 1) ** 2 for n in norms]).mean()
    assert abs(penalty.item() - expected.item()) < 1e-6
    penalty.backward()  # differentiable w.r.t. the critic's weights (double backward)
    assert critic.head.weight.grad is not None


def test_equal_spacing_loss_definition():
    x = torch.tensor([[[0.0, 0.0], [1.0, 0.0], [3.0, 0.0], [6.0, 0.0]]])
    steps = torch.tensor([1.0, 2.0, 3.0])
    target = steps.sum() / 4  # the reference divides by n, not n - 1
    assert torch.isclose(equal_spacing_loss(x), 1000 * ((steps - target) ** 2).mean())
