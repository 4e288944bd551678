"""The torch-free tokenizer saved with an onnxruntime export gives open_clip's token ids, or is not saved."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import open_clip
import pytest
from conftest import TINY_SPEC
from open_clip.tokenizer import HFTokenizer, SimpleTokenizer
from tokenizers import Tokenizer, models, pre_tokenizers

from photosift.core.evaluation.prompts import TEMPLATES
from photosift.core.models.build import load_tokenizer
from photosift.core.models.spec import load_spec
from photosift.core.models.text_tokens import (
    SAMPLE_TEXTS,
    SETTINGS_FILE,
    TOKENIZER_FILE,
    load_saved_tokenizer,
    save_tokenizer,
)
from photosift.core.tags.vocabulary import VOCABULARY_FILE, load_vocabulary

# Texts the app really sends: every tag prompt of the vocabulary and the evaluation templates.
APP_TEXTS = [template.format(tag.name) for tag in load_vocabulary(VOCABULARY_FILE).tags for template in TEMPLATES[:3]]


def saved_ids(open_clip_tokenizer: object, folder: Path, texts: list[str]) -> np.ndarray:
    assert save_tokenizer(open_clip_tokenizer, folder)
    saved = load_saved_tokenizer(folder)
    assert saved is not None
    return saved(texts)


@pytest.mark.parametrize("architecture", ["ViT-B-32", "tiny"])
def test_clips_bpe_tokenizer_is_saved_with_open_clips_ids(architecture: str, tmp_path: Path) -> None:
    """CLIP's BPE (OpenAI CLIP, MetaCLIP, the tiny test model with a 16-token context) on odd texts and on
    every text the app encodes: case, accents, emoji, scripts, entities, truncation."""
    if architecture == "tiny":
        tokenizer = load_tokenizer(load_spec(TINY_SPEC), tmp_path)
    else:
        tokenizer = open_clip.get_tokenizer(architecture)
    texts = [*SAMPLE_TEXTS, *APP_TEXTS, "AN UPPER-CASE Query with Ünïcode", "don't stop", "x" * 300]
    assert np.array_equal(saved_ids(tokenizer, tmp_path, texts), tokenizer(texts).numpy())


def hugging_face_files(folder: Path) -> Path:
    """A small word-level Hugging Face tokenizer saved as files, as a SigLIP model's download brings them."""
    words = ["<pad>", "</s>", "<unk>", "a", "photo", "of", "the", "dog", "red", "bee", "ant", "kids"]
    tokenizer = Tokenizer(models.WordLevel({word: i for i, word in enumerate(words)}, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    folder.mkdir()
    tokenizer.save(str(folder / "tokenizer.json"))
    special = {"pad_token": "<pad>", "eos_token": "</s>", "unk_token": "<unk>"}
    config = {"tokenizer_class": "PreTrainedTokenizerFast", **special}
    (folder / "tokenizer_config.json").write_text(json.dumps(config), encoding="utf-8")
    (folder / "special_tokens_map.json").write_text(json.dumps(special), encoding="utf-8")
    return folder


@pytest.mark.parametrize("clean", ["canonicalize", "whitespace", "lower"])
def test_a_hugging_face_tokenizer_is_saved_with_its_cleaning_padding_and_truncation(clean: str, tmp_path: Path) -> None:
    tokenizer = HFTokenizer(str(hugging_face_files(tmp_path / "files")), context_length=8, clean=clean)
    texts = [*SAMPLE_TEXTS, "Kids, a RED dog!", "a photo of the dog " * 5]
    assert np.array_equal(saved_ids(tokenizer, tmp_path, texts), tokenizer(texts).numpy())


def test_a_tokenizer_that_cannot_be_reproduced_is_not_saved(tmp_path: Path) -> None:
    """A kind it does not convert, and one whose conversion would part from open_clip's ids (here a
    cleaning that lower-cases where open_clip's keeps case), leave nothing behind: open_clip tokenizes."""
    assert not save_tokenizer(object(), tmp_path)
    assert not save_tokenizer(SimpleTokenizer(reduction_mask="simple"), tmp_path)

    def keeps_case(text: str) -> str:
        return " ".join(text.split())

    keeps_case.__name__ = "_clean_lower"  # named as open_clip's lower-casing cleaning, but keeps case
    tokenizer = SimpleTokenizer()
    tokenizer.clean_fn = keeps_case
    assert not save_tokenizer(tokenizer, tmp_path)
    assert not (tmp_path / TOKENIZER_FILE).exists() and not (tmp_path / SETTINGS_FILE).exists()
    assert load_saved_tokenizer(tmp_path) is None


def test_a_damaged_saved_tokenizer_is_ignored(tmp_path: Path) -> None:
    assert save_tokenizer(open_clip.get_tokenizer("ViT-B-32"), tmp_path)
    (tmp_path / TOKENIZER_FILE).write_text("{not json", encoding="utf-8")
    assert load_saved_tokenizer(tmp_path) is None
