"""The training losses against references written here with scalar Python maths (acos, exp, log over
loops), independent of the module's vectorised code; plus gradients, edge cases and mixed precision."""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from photosift.training.losses import (
    ArcMarginLoss,
    MCArcMarginLoss,
    additive_angular_margin,
    combined_mcip_loss,
    info_nce_loss,
)
from photosift.training.stage_a import CaptionTable

Vector = list[float]
B, D, C = 4, 8, 5
# Caption owners for T = 7 captions: image 1 has none, image 0 three, image 2 two, image 3 two.
OWNED = [{0}, {2}, {0}, {3}, {2}, {0}, {3}]


# ---- scalar reference maths -------------------------------------------------------------------


def unit(v: Sequence[float]) -> Vector:
    norm = math.sqrt(sum(a * a for a in v))
    return [a / norm for a in v]


def dot(u: Sequence[float], v: Sequence[float]) -> float:
    return sum(a * b for a, b in zip(u, v, strict=True))


def rows(t: torch.Tensor) -> list[Vector]:
    return [[float(a) for a in row] for row in t.detach().double().tolist()]


def ref_margin(c: float, m: float) -> float:
    """ArcFace target cosine, via the angle itself rather than the sin/cos expansion."""
    if c > math.cos(math.pi - m):
        return math.cos(math.acos(max(-1.0, min(1.0, c))) + m)
    return c - m * math.sin(math.pi - m)


def log_softmax(z: Sequence[float]) -> Vector:
    top = max(z)
    lse = top + math.log(sum(math.exp(a - top) for a in z))
    return [a - lse for a in z]


def ref_arc_margin(x: list[Vector], w: list[Vector], labels: Sequence[int], s: float, m: float) -> float:
    total = 0.0
    for xi, y in zip(x, labels, strict=True):
        cos = [dot(unit(xi), unit(wj)) for wj in w]
        z = [s * (ref_margin(c, m) if j == y else c) for j, c in enumerate(cos)]
        total -= log_softmax(z)[y]
    return total / len(x)


def ref_mc_arc_margin(
    x: list[Vector], t: list[Vector], owned: Sequence[set[int]], s: float, m: float, max_weight: float
) -> float:
    """MCIP.md's formula; `owned[k]` is the set of images caption k belongs to. Every row counts in the
    mean, a row without captions with its max term alone (q = 0)."""
    losses = []
    for i, xi in enumerate(x):
        mine = [i in owners for owners in owned]
        n_i = sum(mine)
        z = [
            s * (ref_margin(dot(unit(xi), unit(tk)), m) if own else dot(unit(xi), unit(tk)))
            for tk, own in zip(t, mine, strict=True)
        ]
        lp = log_softmax(z)
        q = [(1.0 / n_i if own else 0.0) for own in mine]
        soft_ce = -sum(qk * lpk for qk, lpk in zip(q, lp, strict=True))
        hardest = max(-(1.0 - qk) * lpk for qk, lpk in zip(q, lp, strict=True))
        losses.append(soft_ce + max_weight * hardest)
    return sum(losses) / len(losses)


def mask(owned: Sequence[set[int]], n_images: int = B) -> torch.Tensor:
    """The (images, captions) positive mask of an ownership list."""
    return torch.tensor([[i in owners for owners in owned] for i in range(n_images)], dtype=torch.bool).view(
        n_images, len(owned)
    )


def ref_info_nce(img: list[Vector], txt: list[Vector], scale: float, same: Sequence[set[int]] = ()) -> float:
    """CLIP's loss; `same[i]` lists the texts j != i that also describe image i (left out of both softmaxes)."""
    sim = [[scale * dot(unit(a), unit(b)) for b in txt] for a in img]
    n = len(img)
    match = [set(same[i]) if same else set() for i in range(n)]
    i2t = (
        -sum(
            log_softmax([sim[i][j] for j in range(n) if j not in match[i]])[
                sum(1 for j in range(i) if j not in match[i])
            ]
            for i in range(n)
        )
        / n
    )
    t2i = 0.0
    for i in range(n):
        keep = [j for j in range(n) if i not in match[j]]
        t2i -= log_softmax([sim[j][i] for j in keep])[keep.index(i)] / n
    return (i2t + t2i) / 2


def close(actual: torch.Tensor, expected: float, tol: float = 1e-5) -> bool:
    return math.isclose(actual.detach().item(), expected, rel_tol=tol, abs_tol=tol)


# ---- ArcMargin --------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "scale", "margin"), [(0, 30.0, 0.1), (1, 30.0, 0.5), (2, 10.0, 0.3), (3, 64.0, 0.0)])
def test_arc_margin_matches_reference(seed: int, scale: float, margin: float) -> None:
    torch.manual_seed(seed)
    loss_fn = ArcMarginLoss(D, C, scale=scale, margin=margin)
    x = torch.randn(B, D) * 3.0  # not unit length: the loss must normalise
    labels = torch.tensor([0, 3, 3, 4])
    expected = ref_arc_margin(rows(x), rows(loss_fn.proxies), labels.tolist(), scale, margin)
    assert close(loss_fn(x, labels), expected)


@pytest.mark.parametrize("margin", [0.1, 0.5])
def test_arc_margin_fallback_branch_for_opposite_embeddings(margin: float) -> None:
    torch.manual_seed(4)
    loss_fn = ArcMarginLoss(D, C, margin=margin)
    labels = torch.tensor([1, 2, 0, 4])
    # Rows 0 and 1 sit (nearly) opposite their proxy, past the fold; rows 2 and 3 are random.
    x = torch.randn(B, D)
    x[0] = -loss_fn.proxies.detach()[1]
    x[1] = -loss_fn.proxies.detach()[2] + 0.01 * torch.randn(D)
    proxies = rows(loss_fn.proxies)
    cos_y = [dot(unit(xi), unit(proxies[y])) for xi, y in zip(rows(x), labels.tolist(), strict=True)]
    threshold = math.cos(math.pi - margin)
    assert cos_y[0] <= threshold and cos_y[1] <= threshold
    assert any(c > threshold for c in cos_y[2:])
    assert close(loss_fn(x, labels), ref_arc_margin(rows(x), proxies, labels.tolist(), 30.0, margin))


def test_arc_margin_fallback_value_is_linear() -> None:
    loss_fn = ArcMarginLoss(2, 2, scale=1.0, margin=0.2)
    with torch.no_grad():
        loss_fn.proxies.copy_(torch.tensor([[1.0, 0.0], [0.0, 1.0]]))
    # c_y = -1 (fallback: -1 - 0.2 sin(pi - 0.2)), the other class has c = 0.
    target = -1.0 - 0.2 * math.sin(math.pi - 0.2)
    expected = -target + math.log(math.exp(target) + 1.0)
    assert close(loss_fn(torch.tensor([[-1.0, 0.0]]), torch.tensor([0])), expected)


def test_arc_margin_gradients_reach_embeddings_and_proxies() -> None:
    torch.manual_seed(5)
    loss_fn = ArcMarginLoss(D, C)
    x = torch.randn(B, D, requires_grad=True)
    loss_fn(x, torch.tensor([0, 1, 2, 3])).backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert loss_fn.proxies.grad is not None and loss_fn.proxies.grad.abs().sum() > 0
    assert [name for name, _ in loss_fn.named_parameters()] == ["proxies"]
    assert loss_fn.proxies.shape == (C, D)


def test_arc_margin_gradients_finite_at_exact_match_and_exact_opposite() -> None:
    loss_fn = ArcMarginLoss(D, C)
    with torch.no_grad():  # unit axes, so the cosines come out exactly +1 and -1 in float32
        loss_fn.proxies.copy_(torch.eye(C, D))
    x = torch.eye(C, D)[[0, 1]]
    x[1] = -x[1]  # c_y = +1 for row 0 (sqrt(1 - c^2) = 0, infinite slope), -1 for row 1
    x.requires_grad_(True)
    loss = loss_fn(x, torch.tensor([0, 1]))
    loss.backward()
    assert torch.isfinite(loss)
    assert x.grad is not None and torch.isfinite(x.grad).all()
    assert loss_fn.proxies.grad is not None and torch.isfinite(loss_fn.proxies.grad).all()


@pytest.mark.parametrize("c", [1.0, 1.0 - 2.0**-24, -1.0, -(1.0 - 2.0**-24), 0.3])
def test_margin_slope_stays_bounded_near_unit_cosine(c: float) -> None:
    # Unclamped, d/dc cos(theta + m) = cos m + c sin m / sqrt(1 - c^2) is ~290 at 1 - 2^-24 and inf at 1.
    cos = torch.tensor([c], requires_grad=True)
    phi = additive_angular_margin(cos, 0.1)
    phi.sum().backward()
    assert close(phi, ref_margin(c, 0.1), tol=2e-4)
    assert cos.grad is not None and torch.isfinite(cos.grad).all() and cos.grad.abs().item() < 2.0


def test_arc_margin_zero_margin_is_scaled_softmax_and_parameters_matter() -> None:
    torch.manual_seed(7)
    x = torch.randn(B, D)
    labels = torch.tensor([4, 0, 2, 2])
    plain = ArcMarginLoss(D, C, scale=30.0, margin=0.0)
    cos = F.normalize(x, dim=1) @ F.normalize(plain.proxies.detach(), dim=1).T
    assert torch.allclose(plain(x, labels), F.cross_entropy(30.0 * cos, labels), atol=1e-5)

    margined = ArcMarginLoss(D, C, scale=30.0, margin=0.1)
    rescaled = ArcMarginLoss(D, C, scale=10.0, margin=0.0)
    for other in (margined, rescaled):
        other.load_state_dict(plain.state_dict())
    # A margin lowers every target logit (theta + m > theta), so the loss can only rise.
    assert margined(x, labels) > plain(x, labels) + 1e-3
    assert not torch.allclose(rescaled(x, labels), plain(x, labels))


def test_arc_margin_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="margin"):
        ArcMarginLoss(D, C, margin=-0.1)
    with pytest.raises(ValueError, match="scale"):
        MCArcMarginLoss(scale=0.0)


# ---- MCArcMargin ------------------------------------------------------------------------------


@pytest.mark.parametrize(("seed", "margin", "max_weight"), [(0, 0.1, 0.1), (1, 0.1, 0.0), (2, 0.4, 0.5), (3, 0.0, 0.1)])
def test_mc_arc_margin_matches_reference(seed: int, margin: float, max_weight: float) -> None:
    torch.manual_seed(seed)
    x, t = torch.randn(B, D) * 2.0, torch.randn(len(OWNED), D)
    loss = MCArcMarginLoss(margin=margin, max_weight=max_weight)(x, t, mask(OWNED))
    assert close(loss, ref_mc_arc_margin(rows(x), rows(t), OWNED, 30.0, margin, max_weight))


def test_mc_arc_margin_fallback_branch() -> None:
    torch.manual_seed(8)
    x, t = torch.randn(B, D), torch.randn(len(OWNED), D)
    t[0] = -x[0]  # image 0's first caption is exactly opposite: c = -1, past the fold
    t[3] = -x[3] + 0.01 * torch.randn(D)
    loss = MCArcMarginLoss()(x, t, mask(OWNED))
    assert dot(unit(rows(x)[3]), unit(rows(t)[3])) <= math.cos(math.pi - 0.1)
    assert close(loss, ref_mc_arc_margin(rows(x), rows(t), OWNED, 30.0, 0.1, 0.1))


def test_mc_arc_margin_hardest_term_ranges_over_own_captions() -> None:
    # Image 0 owns a matching caption and an opposite one; image 1's caption is close to image 0.
    # The opposite own caption is then the row's worst -(1 - q) log p (q = 1/2), as MCIP.md writes it.
    x = torch.eye(2, D)
    near = torch.eye(2, D)[0] + 0.1 * torch.eye(2, D)[1]
    t = torch.stack([x[0], -x[0], near])
    owned = [{0}, {0}, {1}]
    z = [
        30.0 * (ref_margin(c, 0.1) if 0 in o else c)
        for c, o in zip([1.0, -1.0, dot(x[0].tolist(), unit(near.tolist()))], owned, strict=True)
    ]
    q = [0.5, 0.5, 0.0]
    terms = [-(1.0 - qk) * lp for qk, lp in zip(q, log_softmax(z), strict=True)]
    assert max(range(3), key=terms.__getitem__) == 1  # the case really exercises an own caption
    loss = MCArcMarginLoss()(x, t, mask(owned, 2))
    assert close(loss, ref_mc_arc_margin(rows(x), rows(t), owned, 30.0, 0.1, 0.1))


def test_mc_arc_margin_rows_without_captions_keep_their_max_term() -> None:
    torch.manual_seed(9)
    x = torch.randn(B, D, requires_grad=True)
    t = torch.randn(len(OWNED), D)
    loss = MCArcMarginLoss()(x, t, mask(OWNED))
    # By hand for image 1 (no captions): q = 0, so its term is 0.1 * max_k -log p_k over plain cosines.
    lp = log_softmax([30.0 * dot(unit(rows(x)[1]), unit(tk)) for tk in rows(t)])
    row_1 = 0.1 * max(-a for a in lp)
    others = [
        ref_mc_arc_margin([rows(x)[i]], rows(t), [{0} if i in o else set() for o in OWNED], 30.0, 0.1, 0.1)
        for i in (0, 2, 3)
    ]
    assert close(loss, (row_1 + sum(others)) / B)  # the mean runs over all four rows
    loss.backward()
    assert x.grad is not None and x.grad[1].abs().sum() > 0  # the caption-less row still learns


def test_mc_arc_margin_one_caption_each_is_arc_margin_over_captions() -> None:
    torch.manual_seed(10)
    x, t = torch.randn(B, D), torch.randn(B, D)
    mc = MCArcMarginLoss(scale=30.0, margin=0.2, max_weight=0.0)(x, t, torch.eye(B, dtype=torch.bool))
    arc = ArcMarginLoss(D, B, scale=30.0, margin=0.2)
    with torch.no_grad():
        arc.proxies.copy_(t)
    assert torch.allclose(mc, arc(x, torch.arange(B)), atol=1e-5)


def test_mc_arc_margin_shared_caption_is_one_positive_column_for_each_owner() -> None:
    """Two photos of one class share "a photo of a cat": one column, positive for both, no negative copy."""
    embeddings = torch.nn.functional.normalize(torch.randn(4, D), dim=1)
    per_item = [np.array([0, 1]), np.array([0, 2]), np.array([3]), np.array([], dtype=np.int64)]
    captions, positive = CaptionTable(embeddings, per_item).for_batch(torch.tensor([0, 1, 3]))
    assert torch.equal(captions, embeddings[[0, 1, 2]])  # caption 0 appears once
    assert positive.tolist() == [[True, True, False], [True, False, True], [False, False, False]]
    torch.manual_seed(16)
    x = torch.randn(3, D)
    owned = [{0, 1}, {0}, {1}]
    loss = MCArcMarginLoss()(x, captions, positive)
    assert close(loss, ref_mc_arc_margin(rows(x), rows(captions), owned, 30.0, 0.1, 0.1))
    # Both owners at the shared caption, nothing else near: the soft target is reachable (low loss);
    # with a second copy of the caption as a negative for each, it was not.
    at_shared = captions[[0, 0, 2]]
    dedup = MCArcMarginLoss(max_weight=0.0)(at_shared, captions[:1], torch.tensor([[True], [True], [False]]))
    copies = torch.tensor([[True, False], [False, True], [False, False]])  # each owner's copy negative for the other
    duplicated = MCArcMarginLoss(max_weight=0.0)(at_shared, captions[[0, 0]], copies)
    assert float(dedup) < 1e-3 < float(duplicated)


def test_mc_arc_margin_gradients_and_no_parameters() -> None:
    torch.manual_seed(11)
    x = torch.randn(B, D, requires_grad=True)
    loss_fn = MCArcMarginLoss(max_weight=0.0)
    loss_fn(x, torch.randn(len(OWNED), D), mask(OWNED)).backward()
    assert list(loss_fn.parameters()) == []
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert x.grad[1].abs().sum() == 0  # image 1 has no captions: without the max term it adds nothing


def test_mc_arc_margin_without_captions_is_zero_with_grad_path() -> None:
    x = torch.randn(B, D, requires_grad=True)
    loss = MCArcMarginLoss()(x, torch.empty(0, D), torch.zeros(B, 0, dtype=torch.bool))
    assert loss.detach().item() == 0.0
    assert loss.requires_grad and loss.grad_fn is not None
    loss.backward()
    assert x.grad is not None and torch.equal(x.grad, torch.zeros(B, D))


def test_mc_arc_margin_rejects_a_mismatched_mask() -> None:
    with pytest.raises(ValueError, match="positive mask"):
        MCArcMarginLoss()(torch.randn(B, D), torch.randn(3, D), torch.zeros(B, 2, dtype=torch.bool))


# ---- InfoNCE and the combination --------------------------------------------------------------


@pytest.mark.parametrize("scale", [1.0, 14.3, 100.0])
def test_info_nce_matches_references(scale: float) -> None:
    torch.manual_seed(12)
    img, txt = torch.randn(B, D) * 5.0, torch.randn(B, D)
    loss = info_nce_loss(img, txt, torch.tensor(math.log(scale)))
    assert close(loss, ref_info_nce(rows(img), rows(txt), scale))
    logits = scale * F.normalize(img, dim=1) @ F.normalize(txt, dim=1).T
    labels = torch.arange(B)
    torch_reference = (F.cross_entropy(logits, labels) + F.cross_entropy(logits.T, labels)) / 2
    assert torch.allclose(loss, torch_reference, atol=1e-5)


def test_info_nce_leaves_the_temperature_to_the_trainer() -> None:
    """No cap inside the loss (stage b clamps the parameter after each step), so the gradient never dies."""
    torch.manual_seed(13)
    img, txt = torch.randn(B, D), torch.randn(B, D)
    huge = torch.tensor(math.log(1e3), requires_grad=True)
    loss = info_nce_loss(img, txt, huge)
    assert close(loss, ref_info_nce(rows(img), rows(txt), 1e3), tol=1e-4)
    loss.backward()
    assert huge.grad is not None and float(huge.grad) != 0.0


def test_info_nce_leaves_false_negatives_out() -> None:
    torch.manual_seed(17)
    img, txt = torch.randn(B, D), torch.randn(B, D)
    same = [{2}, set(), {0}, {1}]  # texts 0 and 2 describe images 2 and 0; text 1 also describes image 3
    matches = torch.tensor([[j in same[i] for j in range(B)] for i in range(B)])
    loss = info_nce_loss(img, txt, torch.tensor(math.log(20.0)), matches | torch.eye(B, dtype=torch.bool))
    assert close(loss, ref_info_nce(rows(img), rows(txt), 20.0, same))
    assert not close(loss, ref_info_nce(rows(img), rows(txt), 20.0))


def test_info_nce_gradients_reach_both_towers() -> None:
    torch.manual_seed(14)
    img, txt = torch.randn(B, D, requires_grad=True), torch.randn(B, D, requires_grad=True)
    info_nce_loss(img, txt, torch.tensor(math.log(1 / 0.07))).backward()
    assert img.grad is not None and img.grad.abs().sum() > 0
    assert txt.grad is not None and txt.grad.abs().sum() > 0


def test_combined_mcip_loss_weights() -> None:
    am, mc = torch.tensor(2.0), torch.tensor(4.0)
    assert float(combined_mcip_loss(am, mc)) == pytest.approx(0.75 * 2.0 + 0.25 * 4.0)
    assert float(combined_mcip_loss(am, mc, am_weight=1.0, mc_weight=0.0)) == 2.0


# ---- mixed precision --------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", [torch.bfloat16, torch.float16])
def test_losses_run_in_float32_under_cpu_autocast(dtype: torch.dtype) -> None:
    torch.manual_seed(15)
    tower = torch.nn.Linear(D, D)
    arc, mc = ArcMarginLoss(D, C), MCArcMarginLoss()
    inputs, captions = torch.randn(B, D), torch.randn(len(OWNED), D)
    labels, owners = torch.tensor([0, 1, 2, 3]), mask(OWNED)
    with torch.autocast("cpu", dtype=dtype):
        x = tower(inputs)  # half precision, as a backbone's output would be
        t = tower(captions)
        assert x.dtype == dtype
        losses = [arc(x, labels), mc(x, t, owners), info_nce_loss(x, t[:B], torch.tensor(math.log(100.0)))]
    # The same half-precision features, with the loss maths done in float32 outside autocast.
    expected = [
        arc(x.float(), labels),
        mc(x.float(), t.float(), owners),
        info_nce_loss(x.float(), t[:B].float(), torch.tensor(math.log(100.0))),
    ]
    for loss, reference in zip(losses, expected, strict=True):
        assert loss.dtype == torch.float32 and torch.isfinite(loss)
        assert torch.allclose(loss, reference, atol=1e-5)
    combined_mcip_loss(losses[0], losses[1]).backward()
    assert tower.weight.grad is not None and torch.isfinite(tower.weight.grad).all()
    assert arc.proxies.grad is not None and torch.isfinite(arc.proxies.grad).all()
