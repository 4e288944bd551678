"""How right the pseudo-captions are that mcip mines, on the reproduction's seen classes.

MCArcMargin pulls each photo towards the text of its mined captions; the paper mined CC12M with a strong
model, so its captions mostly describe the photo. This mines as the trainer does (its caption bank of the
fine-tuning classes' names, `training.captions.mine_captions` with the trainer's defaults) over the seen
classes' fine-tuning photos and counts the captions that name the photo's own class, its caption partner
(the class its pretraining captions were pooled with, which the base cannot tell apart), or another class.
Run from benchmarks/:

    python -m reproduce.captions SPEC [SPEC ...]

SPEC is a spec file, as for `reproduce.features`: the cached base or a fine-tuned run's.
"""

from __future__ import annotations

import numpy as np

from photosift.core.evaluation.datasets import load_folder_dataset
from photosift.core.evaluation.runner import embed_images
from photosift.core.models.encoder import Encoder
from photosift.core.models.registry import ModelRegistry
from photosift.core.progress import no_progress
from photosift.training.captions import PROMPT_TEMPLATES, build_caption_bank, encode_captions, mine_captions
from photosift.training.config import TrainConfig
from reproduce.features import open_reproduction


def main() -> None:
    specs, paths, layout = open_reproduction(__doc__)
    photos = load_folder_dataset(layout.finetune)
    bank = build_caption_bank(photos.class_names)
    if len(bank) != len(photos.class_names) * len(PROMPT_TEMPLATES):
        raise SystemExit("two classes share a name: the bank's captions no longer follow the classes in order")
    caption_class = np.repeat(np.arange(len(photos.class_names)), len(PROMPT_TEMPLATES))
    wnid = {name: w for w, name in layout.names.items()}
    group = np.array([layout.groups[wnid[name]] for name in photos.class_names])
    defaults = TrainConfig()
    for spec_path in specs:
        encoder = Encoder(ModelRegistry(paths).resolve(str(spec_path.resolve())), paths, "cpu")
        embedded = embed_images(encoder, photos.paths, no_progress, None, workers=1, batch_size=256)
        if embedded.failed:
            raise SystemExit(f"{embedded.failed} photos could not be read")
        mined = mine_captions(
            embedded.vectors,
            encode_captions(encoder, bank),
            defaults.captions_top_k,
            target_mean=defaults.captions_target_mean,
        )
        encoder.release()
        own = partner = other = 0
        photos_own = 0
        for label, captions in zip(photos.labels[embedded.kept], mined.captions, strict=True):
            named = caption_class[captions]
            own += int((named == label).sum())
            partner += int(((group[named] == group[label]) & (named != label)).sum())
            other += int((group[named] != group[label]).sum())
            photos_own += bool((named == label).any())
        total = max(1, own + partner + other)
        with_own = 100 * photos_own / len(mined.captions)
        print(
            f"{spec_path.stem}: {100 * mined.coverage:.0f} % of photos get captions, {mined.mean_per_image:.1f} a"
            f" photo; of the captions {100 * own / total:.1f} % name the photo's class, {100 * partner / total:.1f} %"
            f" its caption partner, {100 * other / total:.1f} % another pair; {with_own:.1f} % of the photos have a"
            " caption naming their class"
        )


if __name__ == "__main__":
    main()
