"""Training losses for MCIP: ArcMargin over class proxies, MCArcMargin over frozen caption embeddings,
and CLIP's InfoNCE for the text re-alignment stage. Formulas follow /work/shared/MCIP.md.

All losses normalise their inputs and compute in float32 with autocast switched off: under fp16 a
cosine carries ~1e-3 error, which the scale (30 or 100) turns into logit noise, and the margin maths
near |cos| = 1 needs the precision. The matrices involved (B x C, B x T, B x B) are tiny next to the
backbone, so float32 costs nothing measurable.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

ARC_SCALE = 30.0  # s in MCIP.md; the authors' value for both ArcMargin and MCArcMargin
ARC_MARGIN = 0.1  # m in MCIP.md: small, because the backbone starts from a pretrained CLIP space
MC_MAX_WEIGHT = 0.1  # weight of MCArcMargin's hardest-caption term, as in the authors' code
INFO_NCE_MAX_SCALE = 100.0  # CLIP's cap on exp(logit_scale), i.e. temperature >= 0.01 (stage b clamps to ln of it)
AM_WEIGHT = 0.75  # total loss L = 0.75 * L_AM + 0.25 * L_MC (MCIP.md)
MC_WEIGHT = 0.25

# Keeps cos strictly inside (-1, 1) under sqrt(1 - cos^2): d/dc sqrt(1 - c^2) = -c / sqrt(1 - c^2) is
# unbounded as |c| -> 1 (an embedding almost equal to its proxy: ~3e3 at the float32 just below 1, inf
# at 1, where an inf * 0 in backward would give NaN). With 1e-6 the sine's slope stays below ~710 and
# vanishes beyond the clamp, while the value moves by at most sqrt(2e-6) * sin(m) ~ 1.4e-4.
COS_EPS = 1e-6


def _float32(x: Tensor) -> Tensor:
    """Unit-normalised float32 rows."""
    return F.normalize(x.float(), dim=-1)


def _no_autocast(x: Tensor) -> torch.autocast:
    """Switches autocast off for the device of `x`, so matmuls really run in float32."""
    return torch.autocast(device_type=x.device.type, enabled=False)


def additive_angular_margin(cos: Tensor, margin: float) -> Tensor:
    """ArcFace's target logit before scaling: cos(theta + m), or c - m * sin(pi - m) past the fold.

    cos(theta + m) stops decreasing once theta + m > pi, so beyond cos(theta) <= cos(pi - m) the
    linear fallback keeps the target logit monotone in theta (ArcFace, Deng et al. 2019, Sec. 3.1).
    cos(theta + m) is expanded as c cos m - sqrt(1 - c^2) sin m to avoid acos, whose gradient is
    infinite at |c| = 1.

    Args:
        cos: cosines in [-1, 1], any shape, float32.
        margin: the additive angular margin m in radians.

    Returns:
        The margin-penalised cosines, same shape as `cos`.
    """
    safe = cos.clamp(-1.0 + COS_EPS, 1.0 - COS_EPS)
    # clamp(min=0): rounding can still push 1 - c^2 a hair below zero, and sqrt of that is NaN.
    sine = (1.0 - safe * safe).clamp(min=0.0).sqrt()
    # Only the sine sees the clamped cosine: the linear term keeps its exact value and gradient cos(m).
    shifted = cos * math.cos(margin) - sine * math.sin(margin)
    fallback = cos - margin * math.sin(math.pi - margin)
    return torch.where(cos > math.cos(math.pi - margin), shifted, fallback)


def _check_margin(scale: float, margin: float) -> None:
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    if not 0.0 <= margin < math.pi / 2:
        raise ValueError(f"margin must lie in [0, pi/2) radians, got {margin}")


class ArcMarginLoss(nn.Module):
    """Additive angular margin softmax over learnable class proxies.

    ArcFace: Deng, Guo, Xue, Zafeiriou, "ArcFace: Additive Angular Margin Loss for Deep Face
    Recognition", CVPR 2019, arXiv 1801.07698. Used by MCIP (Schall et al., arXiv 2409.01936) for
    stage (a) retrieval fine-tuning with s = 30, m = 0.1.

    Attributes:
        proxies: (num_classes, embed_dim) class centres, Xavier-uniform initialised; train them with
            their own learning rate (MCIP.md: 1e-4 against 1e-6 for the backbone).
    """

    def __init__(self, embed_dim: int, num_classes: int, scale: float = ARC_SCALE, margin: float = ARC_MARGIN):
        super().__init__()
        _check_margin(scale, margin)
        self.scale = scale
        self.margin = margin
        self.proxies = nn.Parameter(torch.empty(num_classes, embed_dim))
        nn.init.xavier_uniform_(self.proxies)

    def extra_repr(self) -> str:
        n, d = self.proxies.shape
        return f"embed_dim={d}, num_classes={n}, scale={self.scale}, margin={self.margin}"

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        """Mean ArcMargin loss of a batch.

        Args:
            embeddings: (B, D) image embeddings, any scale and dtype (normalised here).
            labels: (B,) long class indices in [0, num_classes).

        Returns:
            A float32 scalar.
        """
        with _no_autocast(embeddings):
            cos = _float32(embeddings) @ _float32(self.proxies).T
            target = labels.view(-1, 1)
            phi = additive_angular_margin(cos.gather(1, target), self.margin)
            logits = self.scale * cos.scatter(1, target, phi)
            return F.cross_entropy(logits, labels)


class MCArcMarginLoss(nn.Module):
    """Multi-caption ArcMargin: frozen text embeddings of each image's pseudo-captions act as proxies.

    Schall, Barthel, Hezel, Jung, "Optimizing CLIP Models for Image Retrieval with Maintained
    Joint-Embedding Alignment", SISAP 2024, arXiv 2409.01936. Each image is pulled towards its own
    captions (soft target 1/n_i each, with the ArcFace margin) and pushed from every other image's
    captions in the batch, which keeps the image tower aligned with the text space while it learns
    retrieval. The second term penalises the worst -(1 - q_ik) log p_ik of the row, exactly as written
    in MCIP.md; with n_i > 1 the max also ranges over the image's own captions (weight 1 - 1/n_i).

    Each distinct caption string is one column of the batch, positive for every image that owns it: with
    template caption banks two photos of one class share "a photo of a {class}", and a copy of the same
    text as a negative in another column would make the target unreachable (MCIP.md). The caller passes
    the deduplicated captions and a (B, T) positive mask (see `training.stage_a.CaptionTable.for_batch`).

    The mean runs over all B rows, as in the authors' code: a row without captions has q = 0 and keeps
    its `max_weight * max_k -log p_k` term, which pushes the image away from the caption it is closest to
    among the other images' captions. A batch with no captions at all gives a zero still connected to
    the image embeddings, so a training step can backpropagate it unchanged.

    No learnable parameters.
    """

    def __init__(self, scale: float = ARC_SCALE, margin: float = ARC_MARGIN, max_weight: float = MC_MAX_WEIGHT):
        super().__init__()
        _check_margin(scale, margin)
        self.scale = scale
        self.margin = margin
        self.max_weight = max_weight

    def extra_repr(self) -> str:
        return f"scale={self.scale}, margin={self.margin}, max_weight={self.max_weight}"

    def forward(self, image_embeddings: Tensor, caption_embeddings: Tensor, positive: Tensor) -> Tensor:
        """Mean MCArcMargin loss over all the images of the batch.

        Args:
            image_embeddings: (B, D) image embeddings (normalised here).
            caption_embeddings: (T, D) frozen text embeddings of the batch's distinct captions, T >= 0.
            positive: (B, T) bool: caption k belongs to image i.

        Returns:
            A float32 scalar.
        """
        expected = (image_embeddings.shape[0], caption_embeddings.shape[0])
        if tuple(positive.shape) != expected:
            raise ValueError(f"the positive mask is {tuple(positive.shape)}, expected (images, captions) {expected}")
        with _no_autocast(image_embeddings):
            if caption_embeddings.shape[0] == 0:
                return image_embeddings.float().sum() * 0.0
            cos = _float32(image_embeddings) @ _float32(caption_embeddings).T  # (B, T)
            positive = positive.to(device=cos.device, dtype=torch.bool)
            logits = self.scale * torch.where(positive, additive_angular_margin(cos, self.margin), cos)
            log_p = F.log_softmax(logits, dim=1)
            target = positive.float() / positive.sum(dim=1, keepdim=True).clamp(min=1)
            per_row = -(target * log_p).sum(dim=1)
            per_row = per_row + self.max_weight * (-(1.0 - target) * log_p).amax(dim=1)
            return per_row.mean()


def info_nce_loss(
    image_features: Tensor, text_features: Tensor, logit_scale: Tensor, matches: Tensor | None = None
) -> Tensor:
    """CLIP's symmetric cross-entropy over a batch of matching image-text pairs.

    Radford et al., "Learning Transferable Visual Models From Natural Language Supervision", ICML
    2021, arXiv 2103.00020. Used for MCIP's stage (b) text re-alignment. The inverse temperature is
    `exp(logit_scale)` unclamped: the trainer clamps the parameter itself after each step (to ln 100, as
    CLIP and the authors do), so the loss keeps its gradient at the cap.

    Args:
        image_features: (B, D); row i matches text row i. Normalised here.
        text_features: (B, D). Normalised here.
        logit_scale: scalar, log of the inverse temperature (CLIP's learnable parameter).
        matches: optional (B, B) bool, True where text j also describes image i (the same caption string,
            or another caption of the same photo). Such off-diagonal pairs are false negatives and are left
            out of both softmaxes rather than pushed apart.

    Returns:
        A float32 scalar: the mean of the image-to-text and text-to-image cross-entropies.
    """
    with _no_autocast(image_features):
        logits = logit_scale.float().exp() * _float32(image_features) @ _float32(text_features).T
        labels = torch.arange(logits.shape[0], device=logits.device)
        if matches is not None:
            false_negative = matches.to(logits.device, torch.bool) & ~torch.eye(
                len(labels), dtype=torch.bool, device=logits.device
            )
            logits = logits.masked_fill(false_negative, float("-inf"))
        return (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2


def combined_mcip_loss(am: Tensor, mc: Tensor, am_weight: float = AM_WEIGHT, mc_weight: float = MC_WEIGHT) -> Tensor:
    """MCIP's total loss: am_weight * L_AM + mc_weight * L_MC. 2SFT stage (a) uses L_AM alone."""
    return am_weight * am + mc_weight * mc
