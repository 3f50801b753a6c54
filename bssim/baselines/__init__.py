"""Baselines the deep JSCC is compared with; :mod:`bssim.baselines.practical`: codec + 5G LDPC/QAM."""
