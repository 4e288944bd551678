"""Text tokenizers that need neither torch nor open_clip, so a search on onnxruntime starts without them.

open_clip's tokenizers return torch tensors, and importing open_clip imports torch, transformers and
torchvision: about 2.7 s of a `photosift search` whose text tower then runs on onnxruntime. So when a
model's towers are exported (`onnx_export`), its tokenizer is saved beside them in the format of the
Hugging Face `tokenizers` library, with the settings open_clip applies around it (text cleaning, start
and end tokens, context length, padding). It is kept only if it gives open_clip's token ids for every
string of `SAMPLE_TEXTS`; a tokenizer it cannot convert or reproduce is not saved, and the search
tokenizes with open_clip as before.
"""

from __future__ import annotations

import html
import json
import string
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import ftfy
import numpy as np
import numpy.typing as npt
import tokenizers
from tokenizers import AddedToken, Regex, pre_tokenizers

from photosift.core.atomic import write_text

TOKENIZER_FILE = "tokenizer.json"
SETTINGS_FILE = "tokenizer-settings.json"
# Cases where a converted tokenizer could part from open_clip's: case, contractions, punctuation runs,
# digits, accents, scripts without spaces, emoji, HTML entities, mojibake, odd whitespace, underscores,
# a literal special token, and a text longer than any context (truncation).
SAMPLE_TEXTS = (
    "a photo",
    "x",
    "",
    "Kids on a RED slide at dusk!!!",
    "I'm sure we'll see the dog's ball; THEY'RE here.",
    "two bees on a yellow flower in the garden",
    "café crème brûlée, naïve résumé, Straße, ﬁne",
    "東京タワーの夜景 and 北京",
    "Ελληνικά και русский текст",
    "😀 party 🎉 👍🏽 time",
    "&amp; fish &lt;b&gt; chips &#39;quoted&#39;",
    "mojibake: cafÃ©",
    "  spaces\taround\nthe   words  ",
    "under_score and snake_case_name",
    "12345 67.89 2023-05-01 1st 2nd 3rd",
    "a photo of a {}.",
    "<end_of_text> inside a text",
    " ".join(f"word{i} and more" for i in range(60)),
)
# open_clip's cleaning functions by name (`open_clip.tokenizer.get_clean_fn`), and ours for each.
_OPEN_CLIP_CLEANERS = {
    "_clean_lower": "lower",
    "_clean_whitespace": "whitespace",
    "_clean_canonicalize": "canonicalize",
}
_PUNCTUATION = str.maketrans("", "", string.punctuation)
# CLIP's word pattern (open_clip's SimpleTokenizer, case-insensitive); the special tokens are matched
# before it as added tokens.
_CLIP_WORDS = r"""(?i)'s|'t|'re|'ve|'m|'ll|'d|[\p{L}]+|[\p{N}]|[^\s\p{L}\p{N}]+"""


@dataclass(frozen=True)
class TokenSettings:
    """What open_clip does around the tokenizer itself, saved beside it."""

    kind: str  # "clip": open_clip's BPE, start and end tokens added here; "hf": a Hugging Face tokenizer
    clean: str  # "lower", "whitespace" or "canonicalize", as open_clip names its cleaning
    context_length: int
    start: int | None = None  # clip: the start and end token ids
    end: int | None = None
    pad: int = 0
    pad_token: str = ""  # hf: padding and truncation as `transformers` sets them on the tokenizer
    padding_side: str = "right"
    truncation_side: str = "right"
    zeroed: int | None = None  # hf with open_clip's `strip_sep_token`: this id becomes 0


class SavedTokenizer:
    """A tokenizer saved by `save_tokenizer`: texts in, (N, context_length) int64 token ids out."""

    def __init__(self, tokenizer: tokenizers.Tokenizer, settings: TokenSettings) -> None:
        self._tokenizer = tokenizer
        self._settings = settings
        if settings.kind == "hf":
            tokenizer.enable_truncation(settings.context_length, direction=settings.truncation_side)
            tokenizer.enable_padding(
                direction=settings.padding_side,
                pad_id=settings.pad,
                pad_token=settings.pad_token,
                length=settings.context_length,
            )

    def __call__(self, texts: Sequence[str]) -> npt.NDArray[np.int64]:
        settings = self._settings
        cleaned = [clean_text(text, settings.clean) for text in texts]
        if settings.kind == "hf":
            padded = np.array([e.ids for e in self._tokenizer.encode_batch(cleaned)], dtype=np.int64)
            if settings.zeroed is not None:
                padded[padded == settings.zeroed] = 0
            return padded.reshape(len(texts), settings.context_length)
        assert settings.start is not None and settings.end is not None  # a clip tokenizer saves both
        out = np.zeros((len(texts), settings.context_length), dtype=np.int64)
        for row, encoding in enumerate(self._tokenizer.encode_batch(cleaned, add_special_tokens=False)):
            ids = [settings.start, *encoding.ids, settings.end][: settings.context_length]
            ids[-1] = settings.end  # a truncated text still ends with the end token, as open_clip's does
            out[row, : len(ids)] = ids
        return out


def clean_text(text: str, kind: str) -> str:
    """open_clip's text cleaning of `kind`: mojibake and HTML entities fixed, whitespace collapsed, and
    lower case ("lower"), or lower case without punctuation ("canonicalize"), or neither ("whitespace")."""
    text = html.unescape(html.unescape(ftfy.fix_text(text))).strip()
    if kind == "canonicalize":
        text = text.replace("_", " ").translate(_PUNCTUATION).lower()
    text = " ".join(text.split())
    return text.lower() if kind == "lower" else text


def load_saved_tokenizer(folder: Path) -> SavedTokenizer | None:
    """The tokenizer `save_tokenizer` left in `folder`, or None where it saved none (or it is unreadable)."""
    try:
        settings = TokenSettings(**json.loads((folder / SETTINGS_FILE).read_text(encoding="utf-8")))
        return SavedTokenizer(tokenizers.Tokenizer.from_file(str(folder / TOKENIZER_FILE)), settings)
    except Exception:  # OSError, bad JSON, or `tokenizers`' plain Exception for a file it cannot read
        return None


def save_tokenizer(open_clip_tokenizer: Any, folder: Path) -> bool:
    """Save a torch-free copy of an open_clip tokenizer in `folder` if it reproduces `SAMPLE_TEXTS`'s ids.

    Returns whether it was saved: open_clip's CLIP BPE and fast Hugging Face tokenizers convert; others
    (SentencePiece-only tokenizers, open_clip's reduction or "clips" modes) do not. The settings file is
    written last, so a half-saved tokenizer is never loaded.

    Raises:
        EnvironmentFault: the files could not be written (disk full, permissions).
    """
    converted = _convert(open_clip_tokenizer)
    if converted is None:
        return False
    tokenizer, settings = converted
    expected = open_clip_tokenizer(list(SAMPLE_TEXTS)).numpy()
    saved = SavedTokenizer(tokenizers.Tokenizer.from_str(tokenizer.to_str()), settings)
    if not np.array_equal(saved(SAMPLE_TEXTS), expected):
        return False
    write_text(folder / TOKENIZER_FILE, tokenizer.to_str(), "the model's tokenizer")
    write_text(folder / SETTINGS_FILE, json.dumps(asdict(settings)), "the model's tokenizer settings")
    return True


def _convert(tok: Any) -> tuple[tokenizers.Tokenizer, TokenSettings] | None:
    """The `tokenizers` form of an open_clip tokenizer and its settings, or None for kinds it cannot take."""
    clean = _OPEN_CLIP_CLEANERS.get(getattr(getattr(tok, "clean_fn", None), "__name__", ""))
    context_length = getattr(tok, "context_length", None)
    if clean is None or not context_length:
        return None
    if hasattr(tok, "bpe_ranks") and getattr(tok, "reduction_fn", None) is None:
        return _clip_bpe(tok), TokenSettings(
            "clip", clean, context_length, start=tok.sot_token_id, end=tok.eot_token_id
        )
    hf: Any = getattr(tok, "tokenizer", None)
    if getattr(hf, "is_fast", False) and not getattr(tok, "tokenizer_mode", "") and hf.pad_token_id is not None:
        backend = tokenizers.Tokenizer.from_str(hf.backend_tokenizer.to_str())
        backend.no_truncation()
        backend.no_padding()
        sep = hf.sep_token_id if getattr(tok, "strip_sep_token", False) else None
        return backend, TokenSettings(
            "hf",
            clean,
            context_length,
            pad=hf.pad_token_id,
            pad_token=hf.pad_token,
            padding_side=hf.padding_side,
            truncation_side=hf.truncation_side,
            zeroed=sep,
        )
    return None


def _clip_bpe(tok: Any) -> tokenizers.Tokenizer:
    """open_clip's `SimpleTokenizer` as a byte-level BPE with CLIP's word pattern and end-of-word suffix."""
    merges = sorted(tok.bpe_ranks, key=tok.bpe_ranks.__getitem__)
    model = tokenizers.models.BPE(vocab=dict(tok.encoder), merges=merges, end_of_word_suffix="</w>")
    tokenizer = tokenizers.Tokenizer(model)
    tokenizer.pre_tokenizer = pre_tokenizers.Sequence(
        [
            pre_tokenizers.Split(Regex(_CLIP_WORDS), behavior="removed", invert=True),
            pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False),
        ]
    )
    special = [token for token in tok.encoder if token.startswith("<") and tok.encoder[token] in tok.all_special_ids]
    tokenizer.add_special_tokens([AddedToken(token, normalized=False) for token in special])
    return tokenizer
