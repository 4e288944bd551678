"""Exporting and importing tags and labels: JSON between catalogs, XMP sidecars for other programs.

Nothing here runs unless the user asks, and nothing is ever written into a photo folder: the JSON file and
the sidecar folder must lie outside all of them (`core.export_target`). Photos are named by path *and* content
fingerprint, so labels find their photos again in a new catalog even after files were moved.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from photosift.core import atomic
from photosift.core.errors import UserError
from photosift.core.export_target import refuse_photo_folders, write_json
from photosift.core.tags.records import ExchangeReport, TagInfo
from photosift.core.tags.service import TagService
from photosift.core.tags.vocabulary import normalise_name

FORMAT = "photosift-tags"
VERSION = 1
XMP_SUFFIX = ".xmp"  # appended to the whole file name (darktable's style): x.jpg and x.png never collide


def export_json(service: TagService, path: Path) -> ExchangeReport:
    """Write custom tags, changed sensitivities and every label to `path`.

    Raises:
        UserError: `path` lies in a photo folder.
    """
    refuse_photo_folders(service.labels.engine, [path])
    tags = [t for t in service.tags() if not t.builtin or t.sensitivity != 0]
    accepted, rejected = service.labelled_photos(True), service.labelled_photos(False)
    example_ids = [p for t in tags for p in t.examples]
    label_ids = [p for ids in (*accepted.values(), *rejected.values()) for p in ids]
    identities = service.labels.identities(example_ids + label_ids)
    labels = [
        {"tag": name, "accepted": ok, **_photo(identities[p])}
        for ok, table in ((True, accepted), (False, rejected))
        for name, ids in table.items()
        for p in ids
        if p in identities
    ]
    data = {"format": FORMAT, "version": VERSION, "tags": [_tag(t, identities) for t in tags], "labels": labels}
    write_json(path, data, "the tag export")
    return ExchangeReport(len(tags), len(labels), files=1)


def import_json(service: TagService, path: Path) -> ExchangeReport:
    """Add the file's custom tags (a tag that exists keeps its definition; only its sensitivity is taken)
    and its labels, matched to this library's photos by fingerprint, else by path; then score new tags.

    Raises:
        UserError: the file cannot be read or is not a Photosift tag export.
    """
    data = _read(path)
    known = {t.name for t in service.tags()}
    unmatched = 0
    for tag in data["tags"]:
        examples, missing = _find_photos(service, tag.get("examples", []))
        unmatched += missing
        if normalise_name(tag["name"]) not in known:
            service.store.add_tag(tag["name"], tag["prompts"], tag.get("group"), examples)
        service.store.set_sensitivity(tag["name"], int(tag.get("sensitivity", 0)))
    labels = _label_pairs(service, data["labels"])
    unmatched += len(data["labels"]) - len(labels)
    stored = sum(
        service.labels.set_labels([pair for pair, ok in labels if ok == accepted], accepted)
        for accepted in (True, False)
    )
    service.tagger.prepare()
    return ExchangeReport(len(data["tags"]), stored, unmatched)


def export_xmp(service: TagService, folder: Path, accepted_only: bool = False) -> ExchangeReport:
    """Write an XMP sidecar with each tagged photo's tags as keywords into `folder`, mirroring each photo's
    path below its watched folder, under that folder's name (`sidecar_paths`). Tags are the accepted labels
    plus, unless `accepted_only`, the automatic tags of the active model that were not rejected.

    Raises:
        UserError: `folder` lies in or contains a photo folder, or a sidecar would reach one through a link.
    """
    tags = {t.name: t for t in service.tags()}
    carried: dict[int, list[str]] = {}
    if accepted_only:
        for name, ids in service.labelled_photos(True).items():
            for photo_id in ids:
                carried.setdefault(photo_id, []).append(name)
    else:
        for name in tags:
            for photo_id in service.photo_ids_with_tag(name):
                carried.setdefault(photo_id, []).append(name)
    identities = service.labels.identities(sorted(carried))
    paths = {p: identities[p][0] for p in carried if p in identities}
    targets = sidecar_paths(folder, paths, service.labels.folder_paths())
    refuse_photo_folders(service.labels.engine, [folder], receives_files=True)
    refuse_photo_folders(service.labels.engine, targets.values())
    for photo_id, target in targets.items():
        target.parent.mkdir(parents=True, exist_ok=True)
        atomic.write_text(target, xmp_document(sorted(carried[photo_id]), tags), "an XMP sidecar")
    return ExchangeReport(len(tags), sum(len(carried[p]) for p in targets), files=len(targets))


def sidecar_paths(folder: Path, photo_paths: dict[int, str], watched: Sequence[str]) -> dict[int, Path]:
    """Where each photo's sidecar goes: `folder/<watched folder's name>/<path below it>.xmp`, never the
    photo's absolute path (which would rebuild the user's home tree inside the export). Watched folders
    that share a name are told apart as "Photos", "Photos (2)", ..."""
    names: dict[str, str] = {}
    for root in sorted(watched):
        base = os.path.basename(root.rstrip(os.sep)) or "root"
        count = sum(1 for taken in names.values() if taken == base or taken.startswith(f"{base} ("))
        names[root] = base if count == 0 else f"{base} ({count + 1})"
    sidecars = {}
    for photo_id, path in photo_paths.items():
        under = max((r for r in watched if path.startswith(r.rstrip(os.sep) + os.sep)), key=len, default=None)
        if under is not None:
            below = Path(os.path.relpath(path, under))
            sidecars[photo_id] = folder / names[under] / below.parent / (below.name + XMP_SUFFIX)
    return sidecars


def xmp_document(names: Sequence[str], tags: dict[str, TagInfo]) -> str:
    """An XMP packet with the tags as dc:subject keywords and as Lightroom's hierarchical keywords
    (Photosift|group|tag), which darktable, digiKam and Lightroom all read."""
    flat = "".join(f"<rdf:li>{escape(n)}</rdf:li>" for n in names)
    tree = "".join(f"<rdf:li>Photosift|{escape(tags[n].group)}|{escape(n)}</rdf:li>" for n in names)
    return (
        '<?xpacket begin="\ufeff" id="W5M0MpCehiHzreSzNTczkc9d"?>\n'
        '<x:xmpmeta xmlns:x="adobe:ns:meta/">\n'
        ' <rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">\n'
        '  <rdf:Description rdf:about="" xmlns:dc="http://purl.org/dc/elements/1.1/"'
        ' xmlns:lr="http://ns.adobe.com/lightroom/1.0/">\n'
        f"   <dc:subject><rdf:Bag>{flat}</rdf:Bag></dc:subject>\n"
        f"   <lr:hierarchicalSubject><rdf:Bag>{tree}</rdf:Bag></lr:hierarchicalSubject>\n"
        "  </rdf:Description>\n"
        " </rdf:RDF>\n"
        "</x:xmpmeta>\n"
        '<?xpacket end="w"?>\n'
    )


# Helpers -----------------------------------------------------------------------------------------


def _photo(identity: tuple[str, str]) -> dict[str, str]:
    return {"path": identity[0], "fingerprint": identity[1]}


def _tag(tag: TagInfo, identities: dict[int, tuple[str, str]]) -> dict[str, Any]:
    return {
        "name": tag.name,
        "group": tag.group,
        "builtin": tag.builtin,
        "prompts": list(tag.prompts),
        "sensitivity": tag.sensitivity,
        "examples": [_photo(identities[p]) for p in tag.examples if p in identities],
    }


def _read(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise UserError(f"The tag file {path} cannot be read: {exc}") from exc
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise UserError(f"{path} is not a Photosift tag export.")
    if int(data.get("version", 0)) > VERSION:
        raise UserError(f"{path} comes from a newer Photosift (format {data['version']}); update to import it.")
    tags, labels = data.get("tags", []), data.get("labels", [])
    lists = isinstance(tags, list) and isinstance(labels, list) and all(isinstance(x, dict) for x in tags + labels)
    if not lists or not all(isinstance(t.get("name"), str) and isinstance(t.get("prompts"), list) for t in tags):
        raise UserError(f"{path} is damaged: every tag needs a name and a list of prompts.")
    return {"tags": tags, "labels": labels}


def _find_photos(service: TagService, photos: Sequence[dict[str, str]]) -> tuple[list[int], int]:
    found = [service.labels.find_photo(p.get("fingerprint", ""), p.get("path", "")) for p in photos]
    return [p for p in found if p is not None], sum(1 for p in found if p is None)


def _label_pairs(service: TagService, labels: Sequence[dict[str, Any]]) -> list[tuple[tuple[int, int], bool]]:
    """((photo id, tag id), accepted) of the labels whose photo and tag this library has."""
    ids = {t.name: t.id for t in service.tags()}
    found = []
    for label in labels:
        photo_id = service.labels.find_photo(label.get("fingerprint", ""), label.get("path", ""))
        tag_id = ids.get(label.get("tag", ""))
        if photo_id is not None and tag_id is not None:
            found.append(((photo_id, tag_id), bool(label.get("accepted", True))))
    return found
