"""Zero-shot auto-tagging: a built-in vocabulary and custom tags, scored against every photo's embedding,
thresholds calibrated per tag and model, and the user's accepted and rejected labels."""

from core.tags.records import ExchangeReport, PhotoTag, RetagReport, ReviewItem, TagInfo, TagSuggestion
from core.tags.service import TagService
from core.tags.store import TagStore

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
