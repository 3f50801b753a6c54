"""Building blocks of the deep JSCC: conv + BatchNorm + ReLU, up-sampling, residual block, SNR modulation.

The SNR input is ``snr_feature(snr_db) = snr_db / 20`` (shape (B, 1)).
"""

from __future__ import annotations

import torch
from torch import nn


def snr_feature(snr_db: torch.Tensor) -> torch.Tensor:
    """SNR input of the modulation and policy networks: snr_db / 20, shape (B, 1), float32."""
    return (snr_db.reshape(-1, 1) / 20.0).to(torch.float32)


def conv_bn_relu(c_in: int, c_out: int, kernel: int, stride: int = 1) -> list[nn.Module]:
    """Conv (k×k, stride, same padding, no bias) → BatchNorm → ReLU."""
    return [nn.Conv2d(c_in, c_out, kernel, stride, kernel // 2, bias=False), nn.BatchNorm2d(c_out), nn.ReLU(inplace=True)]


def up_bn_relu(c_in: int, c_out: int) -> list[nn.Module]:
    """×2 up-sampling: transposed conv (3×3, stride 2) → BatchNorm → ReLU (mirror of a stride-2 stage)."""
    return [
        nn.ConvTranspose2d(c_in, c_out, 3, stride=2, padding=1, output_padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
    ]


class ResBlock(nn.Module):
    """x + N(conv(ReLU(N(conv(x))))), 3×3 convolutions (He et al. 2016); N = BatchNorm, or none (biases)."""

    def __init__(self, c: int, norm: bool = True) -> None:
        super().__init__()
        if norm:
            layers = [*conv_bn_relu(c, c, 3), nn.Conv2d(c, c, 3, padding=1, bias=False), nn.BatchNorm2d(c)]
        else:
            layers = [nn.Conv2d(c, c, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(c, c, 3, padding=1)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class SNRModulation(nn.Module):
    """x · σ(MLP_a([mean_hw x, snr])) + MLP_b([mean_hw x, snr]) per channel.

    The channel-wise scale and shift computed from the pooled features and the SNR
    (Yang & Kim 2022, Fig. 1 "modulation"; the scale alone is Xu et al.'s AF module).
    """

    def __init__(self, c: int) -> None:
        super().__init__()
        self.scale = nn.Sequential(nn.Linear(c + 1, c), nn.ReLU(inplace=True), nn.Linear(c, c), nn.Sigmoid())
        self.shift = nn.Sequential(nn.Linear(c + 1, c), nn.ReLU(inplace=True), nn.Linear(c, c))

    def forward(self, x: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        ctx = torch.cat([x.mean(dim=(2, 3)).to(snr.dtype), snr], dim=1)
        a = self.scale(ctx).to(x.dtype)[:, :, None, None]
        b = self.shift(ctx).to(x.dtype)[:, :, None, None]
        return x * a + b


class ModulatedResStack(nn.Module):
    """``n`` residual blocks (BatchNorm or none), each followed by an SNR modulation."""

    def __init__(self, c: int, n: int, norm: bool = True) -> None:
        super().__init__()
        self.blocks = nn.ModuleList(ResBlock(c, norm) for _ in range(n))
        self.mods = nn.ModuleList(SNRModulation(c) for _ in range(n))

    def forward(self, x: torch.Tensor, snr: torch.Tensor) -> torch.Tensor:
        for block, mod in zip(self.blocks, self.mods):
            x = mod(block(x), snr)
        return x
