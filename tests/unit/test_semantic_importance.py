"""Seed-002 importance on tiny randomly initialised networks: shape, masking, normalisation, and
agreement with a finite difference of the task output."""

from __future__ import annotations

import pytest
import torch

from bssim.jscc.config import JSCCConfig
from bssim.jscc.model import AdaptiveJSCC
from bssim.semantic.importance import latent_importance, task_output, weighted_feature_mse
from bssim.semantic.u2netp import U2NetP


@pytest.fixture(scope="module")
def nets():
    torch.manual_seed(0)
    cfg = JSCCConfig(c_full=4, c_half=4, c_s=8, n_res=0, c_out=4, group_size=2, n_fixed_groups=1, policy_hidden=4)
    return AdaptiveJSCC(cfg).eval(), U2NetP().eval()


def test_importance_is_the_normalised_gradient_of_the_task_output(nets):
    jscc, seg = nets
    x = torch.rand(1, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    snr = torch.tensor([10.0])
    z, w = latent_importance(jscc, x, snr, n_active=2, segmenter=seg)
    assert w.shape == z.shape == (1, 4, 8, 8)
    assert (w[:, 2:] == 0).all() and (w[:, :2] >= 0).all()  # only the 2 active channels matter
    assert w[:, :2].mean().item() == pytest.approx(1.0, rel=1e-5)
    mask = torch.tensor([[1.0, 1.0, 0.0, 0.0]])

    def task(zz):
        with torch.no_grad():
            return task_output(jscc.decode(zz, mask, snr), seg).item()

    z_req = z.clone().requires_grad_(True)
    (g,) = torch.autograd.grad(task_output(jscc.decode(z_req, mask, snr), seg).sum(), z_req)
    # directional finite difference along the gradient (a single element moves T below float32 resolution)
    step = 0.05 * g / g.norm()
    fd = (task(z + step) - task(z - step)) / (2 * 0.05)
    assert fd == pytest.approx(g.norm().item(), rel=0.1), (fd, g.norm().item())
    i = torch.unravel_index(w.argmax(), w.shape)
    assert w[i].item() == pytest.approx(g[i].abs().item() / g[:, :2].abs().mean().item(), rel=1e-4)
    assert all(p.grad is None for p in list(jscc.parameters()) + list(seg.parameters()))


def test_weighted_loss_counts_only_weighted_distortion():
    z = torch.zeros(1, 2, 2, 2)
    z_hat = torch.ones(1, 2, 2, 2)
    w = torch.zeros(1, 2, 2, 2)
    w[0, 0, 0, 0] = 8.0
    assert weighted_feature_mse(z, z_hat, w).item() == pytest.approx(1.0)
    with pytest.raises(ValueError, match="shapes differ"):
        weighted_feature_mse(z, z_hat, w[:, :1])
