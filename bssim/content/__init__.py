"""Content: what users watch and what each request may be served with.

:mod:`.media` (videos and image folders, probed and loaded), :mod:`.cache` (the on-disk
cache), :mod:`.measured` (every item's options measured by the real pipeline),
:mod:`.sources` (declared and measured sources the simulation draws requests from).
"""
