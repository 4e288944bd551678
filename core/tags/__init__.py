"""Zero-shot auto-tagging: a built-in vocabulary and custom tags, scored against every photo's embedding,
thresholds calibrated per tag and model, and the user's accepted and rejected labels.

Import from the modules (`records`, `service`, `store`): importing this package loads none of them, so
`photosift tag list` reads `records` and `vocabulary` without SQLAlchemy or numpy (issue 15)."""
