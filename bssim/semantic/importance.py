"""Semantic importance of the JSCC's latent features (seed 002: "semantic importance weight
calculation ... based on the gradient of intelligent task's perception results with respect
to the features").

Task output T(x̂) = mean over pixels of the U²-Net-p person probability of the decoded image
x̂ = D(z) (:func:`bssim.semantic.segment.probability_torch`): how much person the receiver sees.
Importance of latent feature z_i (an element of the power-normalised, masked latent that
crosses the channel, :meth:`bssim.jscc.AdaptiveJSCC.encode`) is

    w_i = |∂T(D(z)) / ∂z_i| / mean_{active j} |∂T / ∂z_j|,

the gradient taken through the noiseless decoder (y = z) at the given SNR conditioning,
normalised to mean 1 over the active elements (inactive channels: 0). The semantic loss of
the seed weights the feature distortion by it: L = mean_i w_i · (z_i − ẑ_i)²
(:func:`weighted_feature_mse`).
"""

from __future__ import annotations

import torch
from bssim.semantic.segment import probability_torch


def task_output(images: torch.Tensor, segmenter=None) -> torch.Tensor:
    """T per image (B,): mean person probability of images (B, 3, H, W) in [0, 1]."""

    return probability_torch(images.clamp(0.0, 1.0), segmenter).mean(dim=(1, 2))


def latent_importance(jscc, x: torch.Tensor, snr_db: torch.Tensor, n_active: int | None = None,
                      segmenter=None) -> tuple[torch.Tensor, torch.Tensor]:
    """(z, w): the latent z (B, C, h, w) of images x (B, 3, H, W) in [0, 1] and its importance w
    (same shape, mean 1 over the active elements of each image, 0 elsewhere); module docstring.
    Neither network's weights receive gradients."""
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"x: expected images (B, 3, H, W), got shape {tuple(x.shape)}")
    with torch.no_grad():
        z, mask = jscc.encode(x, snr_db, n_active=n_active)
    z = z.detach().requires_grad_(True)
    x_hat = jscc.decode(z, mask, snr_db)[..., : x.shape[2], : x.shape[3]]
    (grad,) = torch.autograd.grad(task_output(x_hat, segmenter).sum(), z)
    active = mask[:, :, None, None].expand_as(grad)
    g = grad.abs() * active
    mean = g.sum(dim=(1, 2, 3), keepdim=True) / active.sum(dim=(1, 2, 3), keepdim=True).clamp(min=1)
    return z.detach(), torch.where(mean > 0, g / mean.clamp(min=1e-30), active)


def weighted_feature_mse(z: torch.Tensor, z_hat: torch.Tensor, weight: torch.Tensor) -> torch.Tensor:
    """Seed 002's semantic loss: mean of weight · (z − ẑ)² over all elements."""
    if not z.shape == z_hat.shape == weight.shape:
        raise ValueError(f"shapes differ: z {tuple(z.shape)}, z_hat {tuple(z_hat.shape)}, weight {tuple(weight.shape)}")
    return (weight * (z - z_hat) ** 2).mean()
