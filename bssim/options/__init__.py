"""Options: every way a request can be served, what it costs and what quality it gives.

    content item ─ measure ─> OptionTable (schemes × rate levels: bits or symbols, quality)
                 ─ offers ─> Offers (one epoch's requests)
                 ─ link model ─> Menu (power in W per item)          (links: shannon, analog)
                 ─ objective ─> utility per item                      (sum, log, seed)

Modules: :mod:`.levels` (rate levels), :mod:`.measure` (the real pipeline per item),
:mod:`.table` (OptionTable, Offers), :mod:`.links` (link abstractions, Menu),
:mod:`.objective` (utilities), :mod:`.usercsv` (menus brought by the user as CSV).
"""
