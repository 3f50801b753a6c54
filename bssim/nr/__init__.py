"""5G NR physical layer through Sionna (issue 10; docs/model.md section "nr").

* :mod:`bssim.nr.phy`   resource grid of a user's band and delay bound, MCS, TBS (TS 38.211 §4,
  TS 38.214 §5.1.3) and BLER from Sionna's shipped PDSCH tables (``sionna.sys.PHYAbstraction``);
(the ``nr`` link model built on it: :mod:`bssim.options.nr_link`).
"""
