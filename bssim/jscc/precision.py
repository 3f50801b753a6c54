"""Which arithmetic the deep JSCC runs in: float32, or bfloat16 autocast where it is native.

``auto`` picks ``bf16`` on CPUs with native bfloat16 dot products (AVX512-BF16 or AMX; there
oneDNN runs the convolutions 3–6× faster than in float32, measured in
``benchmarks/bench_jscc.py``) and on CUDA devices that support it, else ``fp32``.
"""

from __future__ import annotations

import torch

PRECISIONS = ("fp32", "bf16")


def native_bf16(device: str) -> bool:
    """True where bfloat16 matrix products run natively on ``device`` ("cpu", "cuda[:n]")."""
    if device.startswith("cuda"):
        return bool(torch.cuda.is_available() and torch.cuda.is_bf16_supported())
    cpu = getattr(torch, "cpu", None)
    checks = ("_is_avx512_bf16_supported", "_is_amx_tile_supported")
    return any(bool(getattr(cpu, name, lambda: False)()) for name in checks)


def resolve_precision(precision: str, device: str) -> str:
    """``fp32``, ``bf16``, or ``auto`` → one of the two for ``device``."""
    if precision == "auto":
        return "bf16" if native_bf16(device) else "fp32"
    if precision not in PRECISIONS:
        raise ValueError(f"precision must be auto, fp32 or bf16, got {precision!r}")
    return precision
