"""Which parameters each stage trains, for any open_clip model.

open_clip has two layouts: `CLIP` keeps the text tower's parts on the model itself (transformer,
ln_final, text_projection), while `CustomTextCLIP` (SigLIP, the MCIP base) nests them under `model.text`.
The image tower is `model.visual` in both, including its projection or attention-pool head.
"""

from __future__ import annotations

import torch
from open_clip.transformer import PatchDropout
from torch import nn


def freeze(model: nn.Module) -> None:
    model.requires_grad_(False)


def image_tower(model: nn.Module) -> nn.Module:
    visual = getattr(model, "visual", None)
    if not isinstance(visual, nn.Module):
        raise TypeError(f"{type(model).__name__} has no image tower (model.visual)")
    return visual


def prepare_image_tower(model: nn.Module, patch_dropout: float, grad_checkpointing: bool) -> list[str]:
    """Make the image tower trainable, with patch dropout and gradient checkpointing where supported.

    Returns the tricks that were applied, for the run log (timm towers keep their own dropout).
    """
    freeze(model)
    visual = image_tower(model)
    visual.requires_grad_(True)
    applied = []
    if patch_dropout > 0 and hasattr(visual, "patch_dropout"):
        visual.patch_dropout = PatchDropout(patch_dropout)
        applied.append(f"patch dropout {patch_dropout}")
    setter = getattr(visual, "set_grad_checkpointing", None)
    if grad_checkpointing and callable(setter):
        setter(True)
        applied.append("gradient checkpointing")
    return applied


def text_tail_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The last transformer block, final layer norm and projection of the text tower, plus the logit
    scale: what re-alignment (stage b) trains."""
    text = getattr(model, "text", model)  # CustomTextCLIP nests the text tower; CLIP does not
    transformer = getattr(text, "transformer", None)
    blocks = getattr(transformer, "resblocks", None)
    if blocks is None or len(blocks) == 0:
        raise TypeError(f"{type(model).__name__}'s text tower has no transformer blocks to re-align")
    params = list(blocks[-1].parameters())
    final_norm = getattr(text, "ln_final", None)
    if isinstance(final_norm, nn.Module):
        params += list(final_norm.parameters())
    projection = getattr(text, "text_projection", None)
    if isinstance(projection, nn.Parameter):
        params.append(projection)
    elif isinstance(projection, nn.Module):
        params += list(projection.parameters())
    scale = getattr(model, "logit_scale", None)
    if isinstance(scale, nn.Parameter):
        params.append(scale)
    return params


def logit_scale(model: nn.Module) -> torch.Tensor:
    scale = getattr(model, "logit_scale", None)
    if not isinstance(scale, torch.Tensor):
        raise TypeError(f"{type(model).__name__} has no logit_scale")
    return scale
