"""Training data: folder scanning, splits, class checks, the dataset with its failure-skipping collate, and
the stage (a) augmentation."""

from __future__ import annotations

import pickle
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import TEST_MODELS, make_photo
from PIL import Image
from torch.utils.data import DataLoader

from photosift.core.errors import FolderNotFoundError, UserError
from photosift.core.models.spec import load_spec
from photosift.training.data import (
    BatchAugment,
    Item,
    LabelledImageDataset,
    check_classes,
    collate_skip_failed,
    load_training_data,
    scan_class_folders,
    split_by_class,
    split_by_image,
    train_transform,
)


def labelled(sizes: list[int]) -> list[Item]:
    """Fake items: class c has sizes[c] photos (the files need not exist for splitting)."""
    return [(Path(f"/photos/c{label}/{i:03d}.jpg"), label) for label, n in enumerate(sizes) for i in range(n)]


def test_image_split_is_stratified_disjoint_and_complete() -> None:
    items = labelled([10, 20, 5, 2])
    split = split_by_image(items, 0.2, seed=1)
    assert set(split.train).isdisjoint(split.validation)
    assert sorted(split.train + split.validation) == sorted(items)
    assert Counter(label for _, label in split.validation) == {0: 2, 1: 4, 2: 1, 3: 1}
    assert Counter(label for _, label in split.train) == {0: 8, 1: 16, 2: 4, 3: 1}


def test_image_split_is_reproducible_by_seed_and_ignores_input_order() -> None:
    items = labelled([30, 30, 30])
    first = split_by_image(items, 0.3, seed=7)
    assert split_by_image(list(reversed(items)), 0.3, seed=7) == first
    assert split_by_image(items, 0.3, seed=8).validation != first.validation


def test_image_split_of_one_class_does_not_move_when_another_is_added() -> None:
    base = split_by_image(labelled([12, 12]), 0.25, seed=3)
    grown = split_by_image(labelled([12, 12, 40]), 0.25, seed=3)
    assert [item for item in grown.validation if item[1] < 2] == list(base.validation)


def test_image_split_keeps_singletons_in_training_and_zero_fraction_holds_out_nothing() -> None:
    split = split_by_image(labelled([1, 3]), 0.5, seed=0)
    assert all(label == 1 for _, label in split.validation) and len(split.validation) == 2
    assert split_by_image(labelled([4, 4]), 0.0, seed=0).validation == ()
    with pytest.raises(UserError, match="validation fraction"):
        split_by_image(labelled([4, 4]), 1.0, seed=0)


def test_class_split_holds_out_whole_classes_reproducibly() -> None:
    items = labelled([3] * 10)
    split = split_by_class(items, 0.3, seed=5)
    train_classes = {label for _, label in split.train}
    val_classes = {label for _, label in split.validation}
    assert len(val_classes) == 3 and len(train_classes) == 7 and train_classes.isdisjoint(val_classes)
    assert sorted(split.train + split.validation) == sorted(items)
    assert split_by_class(items, 0.3, seed=5) == split
    assert {split_by_class(items, 0.3, seed=s).validation for s in range(5)} != {split.validation}


def test_class_split_always_leaves_a_class_on_each_side() -> None:
    split = split_by_class(labelled([2, 2]), 0.9, seed=0)
    assert len({label for _, label in split.train}) == 1 and len({label for _, label in split.validation}) == 1
    with pytest.raises(UserError, match="two classes"):
        split_by_class(labelled([5]), 0.5, seed=0)


def test_check_classes_refuses_no_images_and_a_single_class() -> None:
    with pytest.raises(UserError, match="No photos"):
        check_classes([], ("cats", "dogs"))
    with pytest.raises(UserError, match="at least two classes; found only 'dogs'"):
        check_classes([(Path("a.jpg"), 1), (Path("b.jpg"), 1)], ("cats", "dogs"))


def test_check_classes_warns_about_tiny_and_unbalanced_classes() -> None:
    assert check_classes(labelled([5, 6, 7]), ("a", "b", "c")) == []
    warnings = check_classes(labelled([50, 2, 3, 40]), ("big", "tiny", "small", "large"), min_images=4)
    assert len(warnings) == 3
    assert "'tiny' has only 2 photos, too few" in warnings[0] and "'small' has only 3 photos" in warnings[1]
    assert "unbalanced" in warnings[2] and "'big' has 50" in warnings[2] and "'tiny' only 2" in warnings[2]
    assert check_classes(labelled([40, 4]), ("a", "b")) == []  # a ratio of exactly 10 is tolerated


def test_scan_uses_class_names_from_the_table_and_skips_what_is_not_a_photo(tmp_path: Path) -> None:
    for wnid, count in (("n001", 3), ("n002", 2), ("n003", 1), ("n004", 2)):
        for i in range(count):
            make_photo(tmp_path / wnid / f"{i}.jpg")
    make_photo(tmp_path / "n001" / "nested" / "deep.jpg")
    make_photo(tmp_path / "n001" / ".hidden.jpg")
    (tmp_path / "n001" / "notes.txt").write_text("not a photo")
    (tmp_path / "classes.tsv").write_text("wnid\tname\tall_names\nn001\tgoldfish\tgoldfish, carp\nn002\tbullfrog\tx\n")
    items, names = scan_class_folders(tmp_path)
    assert names == ("goldfish", "bullfrog", "n004")  # n003 has a single photo; n004 is not in the table
    assert Counter(label for _, label in items) == {0: 4, 1: 2, 2: 2}
    assert tmp_path / "n001" / "nested" / "deep.jpg" in {path for path, _ in items}


def test_scan_keeps_classes_that_share_a_display_name_apart(tmp_path: Path) -> None:
    for wnid in ("n1", "n2"):
        make_photo(tmp_path / wnid / "a.jpg")
        make_photo(tmp_path / wnid / "b.jpg")
    (tmp_path / "classes.tsv").write_text("wnid\tname\nn1\tcrane\nn2\tcrane\n")
    assert scan_class_folders(tmp_path)[1] == ("crane (n1)", "crane (n2)")


def test_scan_refuses_a_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(FolderNotFoundError):
        scan_class_folders(tmp_path / "absent")


def test_scan_reads_the_shared_tiny_imagenet_with_its_names(shared_data: Path) -> None:
    items, names = scan_class_folders(shared_data / "tiny-imagenet-val")
    assert len(names) == 202 and len(items) == 202 * 50
    assert names[0] == "goldfish" and "bullfrog" in names
    assert all(path.suffix == ".JPEG" for path, _ in items[:100])


def test_load_training_data_checks_and_splits(tmp_path: Path) -> None:
    for cls in ("ants", "bees"):
        for i in range(4):
            make_photo(tmp_path / cls / f"{i}.jpg")
    data = load_training_data(tmp_path, 0.25, seed=0)
    assert data.class_names == ("ants", "bees") and data.warnings == ()
    assert (len(data.train), len(data.validation)) == (6, 2)


def test_dataset_and_collate_skip_an_unreadable_file(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    good = [make_photo(tmp_path / f"ok{i}.jpg", "blue", size=(40, 30)) for i in range(3)]
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(np.random.default_rng(0).integers(0, 256, 500, dtype=np.uint8).tobytes())
    items = [(good[0], 0), (broken, 1), (good[1], 1), (good[2], 0)]
    dataset = LabelledImageDataset(items, train_transform(load_spec(TEST_MODELS / "tiny.json")))
    assert dataset[1][0] is None and dataset[1][1:] == (1, 1)
    assert "broken.jpg" in caplog.text
    batch = next(iter(DataLoader(dataset, batch_size=4, collate_fn=collate_skip_failed)))
    assert batch.images.shape == (3, 3, 36, 36) and batch.images.dtype == torch.uint8
    assert batch.labels.tolist() == [0, 1, 0] and batch.indices.tolist() == [0, 2, 3] and batch.failed == (1,)


def test_collate_of_only_failures_is_an_empty_batch() -> None:
    batch = collate_skip_failed([(None, 0, 4), (None, 1, 5)])
    assert len(batch.images) == 0 and batch.labels.shape == (0,) and batch.failed == (4, 5)


def test_the_dataset_keeps_decoded_photos_within_its_memory_budget(tmp_path: Path) -> None:
    photos = [make_photo(tmp_path / f"p{i}.jpg", "blue", size=(40, 30)) for i in range(3)]
    transform = train_transform(load_spec(TEST_MODELS / "tiny.json"))
    one_photo = 3 * 36 * 36  # uint8 bytes of a squashed photo
    kept = LabelledImageDataset([(p, 0) for p in photos], transform, cache_bytes=2 * one_photo)
    plain = LabelledImageDataset([(p, 0) for p in photos], transform)
    first = [kept[i][0] for i in range(3)]
    for i in range(3):
        assert plain[i][0] is not None
    for photo in photos:
        photo.unlink()
    again = [kept[i][0] for i in range(3)]
    assert again[0] is first[0] and again[1] is first[1]  # served from memory, the files being gone
    assert again[2] is None  # over the budget: read again, and now missing
    assert plain[0][0] is None


def test_train_transform_squashes_to_room_for_the_random_crop() -> None:
    spec = load_spec(TEST_MODELS / "tiny.json")
    transform = train_transform(spec)
    assert transform.min_side == 36  # 32 * 432 / 384: room for the random crop
    squashed = transform(Image.new("RGB", (60, 40), (10, 120, 200)))
    assert type(squashed) is torch.Tensor and squashed.dtype == torch.uint8 and squashed.shape == (3, 36, 36)
    assert squashed[:, 0, 0].tolist() == [10, 120, 200]


def test_batch_augment_gives_normalised_crops_flipped_and_jittered_per_photo() -> None:
    spec = load_spec(TEST_MODELS / "tiny.json")
    augment = BatchAugment.for_spec(spec)
    pixels = torch.zeros((3, 36, 36), dtype=torch.uint8)
    pixels[:, :, 18:] = 200  # dark left half, light right half
    torch.manual_seed(0)
    outs = augment(pixels.expand(40, -1, -1, -1))
    assert outs.dtype == torch.float32 and outs.shape == (40, 3, 32, 32)
    light_on_right = outs[:, :, :, 16:].mean(dim=(1, 2, 3)) > outs[:, :, :, :16].mean(dim=(1, 2, 3))
    assert 0 < int(light_on_right.sum()) < 40  # horizontal flips happen, but not always
    mean, std = torch.tensor(spec.mean).view(3, 1, 1), torch.tensor(spec.std).view(3, 1, 1)
    brightest = (outs * std + mean).amax(dim=(1, 2, 3))
    assert brightest.std() > 0.05  # each photo draws its own jitter
    assert float(brightest.min()) > 200 / 255 * 0.3 and float(brightest.max()) <= 1.0
    black = -mean.flatten() / std.flatten()
    assert torch.allclose(outs.amin(dim=(0, 2, 3)), black, atol=1e-5)  # jitter cannot lift true black
    ramp = torch.arange(36, dtype=torch.uint8).view(1, 1, 36).expand(40, 3, 36, 36)  # pixel value = column
    unjittered = BatchAugment(32, (0.0, 0.0, 0.0), (1 / 255, 1 / 255, 1 / 255), jitter=0.0)(ramp)
    lefts = {round(float(v)) for v in unjittered.amin(dim=(1, 2, 3))}
    assert len(lefts) > 1 and lefts <= set(range(5))  # random crops, always inside the squashed photo


def test_transforms_survive_pickling_for_spawned_workers() -> None:
    spec = load_spec(TEST_MODELS / "tiny.json")
    photo = Image.new("RGB", (50, 40), (10, 120, 200))
    training = pickle.loads(pickle.dumps(train_transform(spec)))
    assert training(photo).shape == (3, 36, 36)
    assert training.min_side == train_transform(spec).min_side
    assert pickle.loads(pickle.dumps(BatchAugment.for_spec(spec))) == BatchAugment.for_spec(spec)
