"""Which parameters each stage trains, for any open_clip model.

open_clip has two layouts: `CLIP` keeps the text tower's parts on the model itself (transformer,
ln_final, text_projection), while `CustomTextCLIP` (SigLIP, the MCIP base) nests them under `model.text`.
The image tower is `model.visual` in both, including its projection or attention-pool head.
"""

from __future__ import annotations

from typing import cast

import torch
from torch import nn


def freeze(model: nn.Module) -> None:
    model.requires_grad_(False)


def image_tower(model: nn.Module) -> nn.Module:
    visual = getattr(model, "visual", None)
    if not isinstance(visual, nn.Module):
        raise TypeError(f"{type(model).__name__} has no image tower (model.visual)")
    return visual


def applied_patch_dropout(model: nn.Module) -> float:
    """The patch dropout rate the image tower really has, 0 when it has none.

    open_clip's own ViT keeps it in `visual.patch_dropout`; timm-based towers (SigLIP, SigLIP2, PE-Core)
    in their trunk (`patch_drop`). Both are built by `force_patch_dropout` (see `core.models.build`); a
    tower that does not support it (convolutional ones) has no such module."""
    for module in image_tower(model).modules():
        if type(module).__name__.startswith("PatchDropout"):
            return float(getattr(module, "prob", 0.0))
    return 0.0


def prepare_image_tower(model: nn.Module, grad_checkpointing: bool) -> list[str]:
    """Make the image tower trainable, with gradient checkpointing where supported.

    Returns the tricks in force, for the run log: patch dropout as built into the model, and checkpointing.
    """
    freeze(model)
    visual = image_tower(model)
    visual.requires_grad_(True)
    rate = applied_patch_dropout(model)
    applied = [f"patch dropout {rate:g}" if rate > 0 else "no patch dropout"]
    setter = getattr(visual, "set_grad_checkpointing", None)
    if grad_checkpointing and callable(setter):
        setter(True)
        applied.append("gradient checkpointing")
    return applied


def text_transformer(model: nn.Module) -> nn.Module:
    """The text tower's transformer, whose `resblocks` re-alignment trains the last of, in both layouts."""
    text = getattr(model, "text", model)  # CustomTextCLIP nests the text tower; CLIP does not
    transformer = getattr(text, "transformer", None)
    blocks = getattr(transformer, "resblocks", None)
    if not isinstance(transformer, nn.Module) or blocks is None or len(blocks) == 0:
        raise TypeError(f"{type(model).__name__}'s text tower has no transformer blocks to re-align")
    return transformer


def text_tail_parameters(model: nn.Module) -> list[nn.Parameter]:
    """The last transformer block, final layer norm and projection of the text tower, plus the logit
    scale: what re-alignment (stage b) trains."""
    text = getattr(model, "text", model)  # CustomTextCLIP nests the text tower; CLIP does not
    params = list(cast(nn.ModuleList, text_transformer(model).resblocks)[-1].parameters())
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
