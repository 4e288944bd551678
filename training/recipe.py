"""What a run really applies, in one record: the run log's "recipe" line, eval.json and the wizard's result
page show it, so a user (or a reviewer of a benchmark) can see what ran, not what the defaults say."""

from __future__ import annotations

from typing import Any

from photosift.training.config import TrainConfig


def describe_recipe(
    config: TrainConfig, tricks: list[str], patch_dropout: float, batch_size: int, precision: str
) -> dict[str, Any]:
    """The method's loss parts and the tricks in force.

    Args:
        tricks: what `towers.prepare_image_tower` applied (patch dropout, gradient checkpointing).
        patch_dropout: the rate the image tower really has (0 when it does not support it).
        batch_size: the batch stage (a) runs with (after fitting to GPU memory).
        precision: how the steps compute (`Runtime.precision`).
    """
    loss = (
        "ArcMargin" if config.method != "mcip" else f"{config.am_weight:g} ArcMargin + {config.mc_weight:g} MCArcMargin"
    )
    clip = f"tower and class proxies separately, each to norm {config.grad_clip:g}" if config.grad_clip > 0 else "none"
    return {
        "method": config.method,
        "loss": loss,
        "realignment": "InfoNCE on the text tower's last block" if config.realigns else "none",
        "patch_dropout": patch_dropout,
        "tricks": tricks,
        "gradient_clipping": clip,
        "batch_size": batch_size,
        "epochs": config.epochs,
        "lr_tower": config.lr_tower,
        "lr_proxies": config.lr_proxies,
        "precision": precision,
    }


def recipe_lines(recipe: dict[str, Any]) -> list[str]:
    """The recipe as short sentences for people (the wizard's result page)."""
    rate = float(recipe.get("patch_dropout", 0.0))
    return [
        f"Method {recipe['method']}: loss {recipe['loss']}; re-alignment: {recipe['realignment']}.",
        f"Batch {recipe['batch_size']}, {recipe['epochs']} epochs, learning rate {recipe['lr_tower']:g} (image tower)"
        f" and {recipe['lr_proxies']:g} (class proxies), {recipe['precision']}.",
        f"Patch dropout {rate:g}."
        if rate > 0
        else "No patch dropout (this image tower does not support it or it was off).",
        f"Gradient clipping: {recipe['gradient_clipping']}.",
    ]
