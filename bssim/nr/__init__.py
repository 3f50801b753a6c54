"""5G NR physical layer through Sionna (issue 10; docs/model.md section "nr").

* :mod:`bssim.nr.phy`   resource grid of a user's band and delay bound, MCS, TBS (TS 38.211 §4,
  TS 38.214 §5.1.3) and BLER from Sionna's shipped PDSCH tables (``sionna.sys.PHYAbstraction``);
* :mod:`bssim.nr.link`  the ``nr`` link model: link adaptation for a BLER target, power, HARQ outcome.
"""
