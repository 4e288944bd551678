"""Zero-shot auto-tagging: a built-in vocabulary and custom tags, scored against every photo's embedding,
thresholds calibrated per tag and model, and the user's accepted and rejected labels."""

from photosift.core.tags.records import ExchangeReport, PhotoTag, RetagReport, ReviewItem, TagInfo, TagSuggestion
from photosift.core.tags.service import TagService
from photosift.core.tags.store import TagStore

__all__ = [
    "ExchangeReport",
    "PhotoTag",
    "RetagReport",
    "ReviewItem",
    "TagInfo",
    "TagService",
    "TagStore",
    "TagSuggestion",
]
