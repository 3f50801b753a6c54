"""bssim: base-station scheduling simulator for semantic-aware image and video transmission.

Modules, one concept each:

- :mod:`bssim.link`      link model: unit conversions, noise, path loss, fading, Shannon rate and its inversion
- :mod:`bssim.cell`      cell geometry and per-epoch channel draws for N users
- :mod:`bssim.sched`     schedulers: the seed's knapsack DP, OR-Tools references, baselines
- :mod:`bssim.epoch`     one scheduling epoch: users table -> option powers -> solver -> result table
- :mod:`bssim.scenario`  TOML scenario files, validated
- :mod:`bssim.metrics`   image quality: PSNR, SSIM, MS-SSIM
- :mod:`bssim.jscc`      adaptive-rate deep JSCC model, channels, training, evaluation
- :mod:`bssim.pipeline`  key-information pipeline: background library, matching, extraction, synthesis
- :mod:`bssim.sim`       SimPy discrete-event engine
- :mod:`bssim.paths`     where shared data and models are found
- :mod:`bssim.cli`       the ``bssim`` command, a thin layer over the above

Conventions: images are RGB ``uint8`` numpy arrays of shape (H, W, 3); physical quantities
are SI internally (W, Hz, s, m) and carry their unit in their name (``power_w``, ``noise_dbm``).
"""

__version__ = "0.1.0"
