"""Word recall of `text:` search and OCR throughput on a rendered corpus whose words are known.

    python benchmarks/bench_ocr.py [--per-condition 3] [--threads 1] [--out DIR]

Each image carries one word from WORDS, rendered in one of several fonts, sizes and rotations on one of
several backgrounds: white paper, a dark screen, a colour gradient, or a photo from the shared folders
(hymenoptera; a word pasted on it in white with a dark outline). Every condition is crossed with the
others at random (seeded), `--per-condition` images per value of each. The library reads them all
(setting ocr = "all"; the gate is not what is measured) and then searches `text:WORD` for each image's
word: recall is the share of images found by their own word, reported overall and per condition value.
Throughput is the pass's photos/s, decoding included, with `--threads` onnxruntime threads.

The embeddings come from a stand-in encoder (an image's mean colour), since only text search is measured.
"""

from __future__ import annotations

import argparse
import random
import tempfile
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from _common import SHARED_DATA
from PIL import Image, ImageDraw, ImageFont

from photosift.core.catalog import Catalog
from photosift.core.library import Library
from photosift.core.models.spec import ModelSpec
from photosift.core.ocr.engine import TextEngine
from photosift.core.settings import Paths, Settings

WORDS = (
    "invoice", "harbour", "bakery", "station", "receipt", "ticket", "museum", "garden", "pharmacy",
    "library", "parking", "hotel", "market", "coffee", "total", "bridge", "cinema", "school", "platform",
    "theatre", "airport", "exit", "sale", "open", "2023", "4711", "Lisbon", "Porto", "kitchen", "meeting",
)  # fmt: skip
FONTS = {
    "sans": "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "serif-bold": "/usr/share/fonts/truetype/dejavu/DejaVuSerif-Bold.ttf",
    "mono": "/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf",
    "bookman-italic": "/usr/share/fonts/opentype/urw-base35/URWBookman-LightItalic.otf",
}
SIZES = {"small": 16, "medium": 32, "large": 64}  # pixels, on a 640x480 image
ROTATIONS = (0, 15, 45, 90)  # degrees
BACKGROUNDS = ("paper", "screen", "gradient", "photo")
IMAGE_SIZE = (640, 480)


@dataclass(frozen=True)
class Sample:
    word: str
    font: str
    size: str
    rotation: int
    background: str

    def conditions(self) -> dict[str, str]:
        return {"font": self.font, "size": self.size, "rotation": f"{self.rotation} deg", "background": self.background}


def samples(per_condition: int, rng: random.Random) -> list[Sample]:
    """Every value of every condition `per_condition` times, the other conditions drawn at random."""
    axes: dict[str, list[object]] = {
        "font": list(FONTS), "size": list(SIZES), "rotation": list(ROTATIONS), "background": list(BACKGROUNDS),
    }  # fmt: skip
    found = []
    for axis, values in axes.items():
        for value in values:
            for _ in range(per_condition):
                drawn = {name: rng.choice(options) for name, options in axes.items()} | {axis: value}
                found.append(Sample(rng.choice(WORDS), **drawn))  # type: ignore[arg-type]
    return found


def background(kind: str, photos: list[Path], rng: random.Random) -> tuple[Image.Image, str, str | None]:
    """The image to write on, the text colour, and an outline colour (for words pasted on photos)."""
    if kind == "paper":
        return Image.new("RGB", IMAGE_SIZE, (245, 242, 235)), "black", None
    if kind == "screen":
        return Image.new("RGB", IMAGE_SIZE, (30, 32, 40)), "white", None
    if kind == "gradient":
        x = np.linspace(0, 1, IMAGE_SIZE[0])[None, :, None]
        y = np.linspace(0, 1, IMAGE_SIZE[1])[:, None, None]
        pixels = 120 + 100 * np.concatenate([x + 0 * y, y + 0 * x, (1 - x) * (1 - y) + 0 * x], axis=2) / 2
        return Image.fromarray(pixels.astype(np.uint8)), "black", None
    photo = Image.open(rng.choice(photos)).convert("RGB").resize(IMAGE_SIZE)
    return photo, "white", "black"


def render(sample: Sample, photos: list[Path], rng: random.Random) -> Image.Image:
    image, colour, outline = background(sample.background, photos, rng)
    path = FONTS[sample.font]
    font = (
        ImageFont.truetype(path, SIZES[sample.size])
        if Path(path).exists()
        else ImageFont.load_default(SIZES[sample.size])
    )
    layer = Image.new("RGBA", IMAGE_SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(layer)
    left, top, right, bottom = draw.textbbox((0, 0), sample.word, font=font, stroke_width=2 if outline else 0)
    at = ((IMAGE_SIZE[0] - (right - left)) // 2, (IMAGE_SIZE[1] - (bottom - top)) // 2)
    draw.text(at, sample.word, fill=colour, font=font, stroke_width=2 if outline else 0, stroke_fill=outline)
    layer = layer.rotate(
        sample.rotation, resample=Image.Resampling.BICUBIC, center=(IMAGE_SIZE[0] / 2, IMAGE_SIZE[1] / 2)
    )
    image.paste(layer, (0, 0), layer)
    return image


class MeanColourEncoder:
    """Embeddings for the catalog without a model: an image's mean colour (text search ignores them)."""

    embed_dim, device, min_side = 4, "cpu", 16

    def load(self, progress: object = None, cancel: object = None) -> None: ...
    def prepare_bundled_tokenizer(self) -> None: ...
    def release(self) -> None: ...

    def preprocess(self, img: Image.Image) -> np.ndarray:
        return np.asarray(img.convert("RGB").resize((16, 16)), dtype=np.float32).transpose(2, 0, 1) / 255.0

    def encode_images(self, batch: np.ndarray) -> np.ndarray:
        vectors = np.concatenate([batch.mean(axis=(2, 3)), np.ones((len(batch), 1))], axis=1)
        return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)

    def encode_texts(self, texts: list[str]) -> np.ndarray:
        return np.tile(np.array([[0, 0, 0, 1]], dtype=np.float32), (len(texts), 1))


def stand_in_spec() -> ModelSpec:
    return ModelSpec(
        name="mean-colour", title="Mean colour", description="benchmark stand-in", architecture="none",
        open_clip_config=None, pretrained=None, weights=None, checkpoint=None, random_init=True, embed_dim=4,
        image_size=16, resize=16, resize_mode="squash", interpolation="bicubic", mean=(0.5, 0.5, 0.5),
        std=(0.5, 0.5, 0.5), download_mb=0, default_for=(),
    )  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--per-condition", type=int, default=3, help="images per value of each condition")
    parser.add_argument("--threads", type=int, default=1, help="onnxruntime threads of the OCR engine")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, help="keep the corpus and library here (default: a temporary folder)")
    args = parser.parse_args()
    rng = random.Random(args.seed)
    photos = sorted((SHARED_DATA / "hymenoptera").rglob("*.jpg"))
    if not photos:
        raise SystemExit(f"The shared photos are not at {SHARED_DATA}: the photo background needs them.")
    root = args.out or Path(tempfile.mkdtemp(prefix="bench-ocr-"))
    corpus = samples(args.per_condition, rng)
    for i, sample in enumerate(corpus):
        (root / "corpus").mkdir(parents=True, exist_ok=True)
        render(sample, photos, rng).save(root / "corpus" / f"{i:04d}.jpg", "JPEG", quality=90)
    paths = Paths(root / "home")
    paths.ensure()
    library = Library(paths, Settings(ocr="all"), Catalog(paths.database), stand_in_spec(), MeanColourEncoder())
    library.text.engine = TextEngine(threads=args.threads)
    library.add_folder(root / "corpus")
    library.scan()
    library.index()
    report = library.text.read_pending()
    found: dict[str, list[bool]] = defaultdict(list)
    for i, sample in enumerate(corpus):
        photo_id = library.catalog.photo_id_for_path(str(root / "corpus" / f"{i:04d}.jpg"))
        hits = {hit.photo_id for hit in library.search(f'text:"{sample.word}"', limit=len(corpus)).hits}
        found["all"].append(photo_id in hits)
        for axis, value in sample.conditions().items():
            found[f"{axis}: {value}"].append(photo_id in hits)
    library.close()
    print(f"{len(corpus)} images, {report.read} read in {report.elapsed_s:.1f} s: {report.rate:.2f} photos/s "
          f"with {args.threads} onnxruntime thread(s); corpus in {root}")  # fmt: skip
    for name, hits in sorted(found.items(), key=lambda item: (item[0] != "all", item[0])):
        print(f"  recall {name:<26} {sum(hits) / len(hits):6.1%}  ({sum(hits)}/{len(hits)})")


if __name__ == "__main__":
    main()
