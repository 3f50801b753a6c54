"""Options: every way a request can be served, what it costs and what quality it gives.

    content item ─ measure ─> OptionTable (schemes × codecs × rate levels: bits or symbols, quality)
                 ─ offers ─> Offers (one epoch's requests)
                 ─ link model ─> Menu (power in W per item)          (links: shannon, analog, nr)
                 ─ objective ─> utility per item                      (sum, log, seed)

Modules: :mod:`.measure` (the real pipeline per item, through the scheme and codec
registries), :mod:`.catalog` (a scenario's measured items, cached), :mod:`.table` (OptionTable,
Offers), :mod:`.menu` (Channels, Menu, the fixed policies), :mod:`.links` and :mod:`.nr_link`
(link models), :mod:`.objective` (utilities).
"""

from bssim.options.measure import MeasureSpec, measure_codec, measure_item

__all__ = ["MeasureSpec", "measure_codec", "measure_item"]
