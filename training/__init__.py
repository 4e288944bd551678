"""MCIP fine-tuning (ArcMargin + MCArcMargin, 2SFT); runs as its own process: `python -m photosift.training`."""
