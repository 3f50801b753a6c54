"""Content: what users watch and what each request may be served with.

:mod:`.media` (videos and image folders, probed and loaded), :mod:`.cache` (the on-disk
cache). Their options are measured in :mod:`bssim.options.catalog`; the simulation draws
requests from them in :mod:`bssim.sim.sources`.
"""
