"""Test-session settings.

torch runs single-threaded in the tests: on the project's 2-core machines, with pytest and
the OS sharing the cores, OpenMP's spin-waiting made two threads 10-40x slower for the small
tensors the tests use (measured: MS-SSIM of one Kodak image 1.9 s with 2 threads, 0.07 s
with 1). Results do not depend on it.

The pipeline's measurement cache goes to a fresh folder per test session (never the user's
``~/.cache/bssim``), so every run measures from scratch, as CI on a new machine does.
"""

import atexit
import os
import shutil
import tempfile

import torch

torch.set_num_threads(1)
os.environ["BSSIM_CACHE"] = _cache = tempfile.mkdtemp(prefix="bssim-test-cache-")
atexit.register(shutil.rmtree, _cache, ignore_errors=True)
