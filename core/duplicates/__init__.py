"""Near-duplicate photos: groups found from the stored embeddings, confirmed by a perceptual hash where the
embedding alone is ambiguous, with a suggested copy to keep. Photosift never deletes or moves a photo: the
groups and the person's marks live in the catalog, for review, the `is:duplicate` filter and an export.

records (what crosses the boundary) <- pairs (range search, union-find) <- signatures (pHash, sharpness)
<- store (catalog rows) <- service (the whole pass, for the CLI and the GUI).
"""
