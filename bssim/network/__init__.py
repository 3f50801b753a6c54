"""Several cells: hexagonal layout and sector antennas (Sionna), per-link large-scale channel,
SINR with inter-cell interference, RSRP association and A3 handover (docs/model.md, "Network").

Layer 2 ("channel and content"): numpy arrays in, numpy arrays out; the per-sector scheduling
lives in :mod:`bssim.sim.network`.
"""
