"""Pieces of `benchmarks/reproduce_mcip.py`: the paper's finding in miniature on tiny-imagenet-val."""
