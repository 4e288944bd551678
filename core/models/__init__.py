"""Embedding models: specs read from JSON, weights download and loading, and the encoder.

Import the submodules directly (`core.models.spec`, `core.models.registry`, `core.models.encoder`):
this package imports nothing itself, so reading a spec does not pay for importing torch.
"""
