"""Test-session settings.

torch runs single-threaded in the tests: on the project's 2-core machines, with pytest and
the OS sharing the cores, OpenMP's spin-waiting made two threads 10-40x slower for the small
tensors the tests use (measured: MS-SSIM of one Kodak image 1.9 s with 2 threads, 0.07 s
with 1). Results do not depend on it.
"""

import torch

torch.set_num_threads(1)
