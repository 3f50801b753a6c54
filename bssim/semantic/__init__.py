"""Task-aware (semantic) measurement: what the receiver can still do with a picture.

- :mod:`bssim.semantic.u2netp`: U²-Net-p in PyTorch with rembg's weights (differentiable);
- :mod:`bssim.semantic.segment`: person masks from it;
- :mod:`bssim.semantic.detect`: person boxes (OpenCV's HOG people detector);
- :mod:`bssim.semantic.task`: the task metrics ``person_iou`` and ``person_f1``.

See ``docs/semantic.md``.
"""
