"""Studies: experiments that produce the numbers and figures in docs/ (called by the CLI).

:mod:`.seed_experiments` reproduces seed 000's section V experiments with bssim's pipeline.
"""
