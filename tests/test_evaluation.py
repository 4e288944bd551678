"""Evaluation: each metric against small cases worked out by hand, the dataset loaders (class folders and
GPR1200's flat layout), the runner end to end with the tiny model, and `photosift eval`."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from conftest import TEST_MODELS, FakeEncoder, make_colour_classes, make_photo

from photosift.app.cli import run
from photosift.core.errors import Cancelled, FolderNotFoundError, UserError
from photosift.core.evaluation import metrics
from photosift.core.evaluation.datasets import GPR1200_DOMAINS, gpr1200_class, gpr1200_domain, load_folder_dataset
from photosift.core.evaluation.metrics import knn_accuracy, retrieval_map, text_to_image_retrieval, zero_shot_accuracy
from photosift.core.evaluation.prompts import TEMPLATES, class_text_embeddings
from photosift.core.evaluation.runner import evaluate
from photosift.core.models.encoder import Encoder
from photosift.core.models.spec import load_spec
from photosift.core.progress import CancelToken, Progress
from photosift.core.protocol import EXIT_OK, EXIT_USER
from photosift.core.settings import Paths

TINY = TEST_MODELS / "tiny.json"


def at_angles(*degrees: float) -> np.ndarray:
    """Unit vectors in the plane: the similarity of two is the cosine of the angle between them."""
    radians = np.radians(degrees)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1)


# Metrics -------------------------------------------------------------------------------------------


def test_map_by_hand() -> None:
    # Images at 0, 60 degrees (class 0) and 20, 90 degrees (class 1); each query ranks itself first.
    # q0: sims 1, .5, .94, 0   -> ranking 0,2,1,3; relevant {0,1} at ranks 1,3: AP = (1/1 + 2/3)/2 = 5/6
    # q1: sims .5, 1, .77, .87 -> ranking 1,3,2,0; relevant {1,0} at ranks 1,4: AP = (1/1 + 2/4)/2 = 3/4
    # q2: sims .94, .77, 1, .34 -> ranking 2,0,1,3; relevant {2,3} at ranks 1,4: AP = 3/4
    # q3: sims 0, .87, .34, 1  -> ranking 3,1,2,0; relevant {3,2} at ranks 1,3: AP = 5/6
    # mAP = (5/6 + 3/4 + 3/4 + 5/6)/4 = 19/24; groups [0,1,1,1]: 5/6 and (3/4 + 3/4 + 5/6)/3 = 7/9.
    result = retrieval_map(at_angles(0, 60, 20, 90), np.array([0, 0, 1, 1]), np.array([0, 1, 1, 1]))
    assert result.overall == pytest.approx(19 / 24)
    assert result.per_group == pytest.approx({0: 5 / 6, 1: 7 / 9})
    assert retrieval_map(at_angles(0, 60, 20, 90), np.array([0, 0, 1, 1])).per_group == {}


def test_map_ranks_the_query_first_even_on_ties() -> None:
    # Images 0 and 1 are identical but of different classes; 2 is orthogonal and of class 0.
    # q0: ranking 0,1,2; relevant {0,2} at ranks 1,3: AP = (1 + 2/3)/2 = 5/6
    # q1: itself first despite the tie with 0 (which a stable sort would put first): AP = 1
    # q2: ranking 2, then 0 before 1 (tie, stable): relevant {2,0} at ranks 1,2: AP = 1
    result = retrieval_map(at_angles(0, 0, 90), np.array([0, 1, 0]))
    assert result.overall == pytest.approx((5 / 6 + 1 + 1) / 3)


def test_map_is_the_same_in_chunks(monkeypatch: pytest.MonkeyPatch) -> None:
    rng = np.random.default_rng(0)
    emb = rng.normal(size=(50, 8))
    emb /= np.linalg.norm(emb, axis=1, keepdims=True)
    labels, groups = rng.integers(0, 5, 50), rng.integers(0, 3, 50)
    whole = retrieval_map(emb, labels, groups)
    monkeypatch.setattr(metrics, "QUERY_CHUNK", 7)
    chunked = retrieval_map(emb, labels, groups)
    assert chunked.overall == pytest.approx(whole.overall) and chunked.per_group == pytest.approx(whole.per_group)
    assert 0 < whole.overall < 1


def _stable_ranking(scores: np.ndarray) -> np.ndarray:
    """The definition the metrics keep to without sorting whole rows: best first, ties to the lower index."""
    return np.argsort(-scores, axis=1, kind="stable")


@pytest.mark.parametrize("kind", ["distinct", "coarse (many ties)", "duplicates"])
def test_map_and_top_k_agree_with_a_full_stable_ranking(kind: str) -> None:
    rng = np.random.default_rng(1)
    emb = rng.normal(size=(300, 6))
    if kind == "coarse (many ties)":
        emb = np.round(emb)
    elif kind == "duplicates":
        emb[150:] = emb[:150]
    emb = (emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-6)).astype(np.float32)
    labels = rng.integers(0, 12, 300)
    scores = emb @ emb.T  # float32 as the metrics compute it: the same ties
    np.fill_diagonal(scores, np.inf)
    hits = labels[_stable_ranking(scores)] == labels[:, None]
    expected = ((np.cumsum(hits, axis=1) / np.arange(1, 301)) * hits).sum(axis=1) / hits.sum(axis=1)
    assert retrieval_map(emb, labels).overall == pytest.approx(expected.mean(), rel=1e-12)
    np.fill_diagonal(scores, -np.inf)
    for k in (1, 5, 21, 299, 300, 400):
        assert (metrics.top_k(scores, k) == _stable_ranking(scores)[:, :k]).all()


def test_knn_vote_weights_follow_the_temperature() -> None:
    # The query at 0 degrees; k=3 nearest: 0 deg (class 0, sim 1), +60 and -60 deg (class 1, sim .5 each).
    # T = 1:   class 0 gets e^1 = 2.72, class 1 gets 2 e^0.5 = 3.30 -> class 1 (wrong)
    # T = 0.1: class 0 gets e^10 = 22026, class 1 gets 2 e^5 = 297 -> class 0 (right)
    train, train_labels = at_angles(0, 60, -60, 90), np.array([0, 1, 1, 0])
    query, truth = at_angles(0), np.array([0])
    assert knn_accuracy(train, train_labels, query, truth, k=3, temperature=1.0) == 0.0
    assert knn_accuracy(train, train_labels, query, truth, k=3, temperature=0.1) == 1.0


def test_knn_leave_one_out() -> None:
    # Pairs (0, 10 deg) class 0 and (90, 80 deg) class 1 find each other with k=1; the lone image of class 2
    # at 180 deg finds 90 deg (sim 0, the largest) and is wrong: 4/5. Voting for itself, all would be right.
    emb, labels = at_angles(0, 10, 90, 80, 180), np.array([0, 0, 1, 1, 2])
    assert knn_accuracy(emb, labels, emb, labels, k=1, exclude_self=True) == pytest.approx(0.8)
    assert knn_accuracy(emb, labels, emb, labels, k=1) == 1.0
    with pytest.raises(ValueError, match="exclude_self"):
        knn_accuracy(emb, labels, emb[:2], labels[:2], exclude_self=True)


def test_zero_shot_top1_and_top5() -> None:
    # Six classes on the axes. Image 0 is class 0 exactly (top-1). Image 1 (class 1) scores class 0 first and
    # class 1 second (top-5 only). Image 2 (class 5) scores class 5 last of six (neither): top1 1/3, top5 2/3.
    images = np.array([[1, 0, 0, 0, 0, 0], [0.5, 0.4, 0.3, 0.2, 0.1, 0], [0.5, 0.4, 0.3, 0.2, 0.1, -0.1]])
    result = zero_shot_accuracy(images, np.array([0, 1, 5]), np.eye(6))
    assert (result.top1, result.top5) == pytest.approx((1 / 3, 2 / 3))


def test_text_to_image_recall_and_precision_at_k() -> None:
    # Text 0 (0 deg) ranks images 0 (sim 1), 1 (.98), 2 (.94), 3 (0); its relevant image 2 is third.
    # Text 1 (90 deg) ranks image 3 first, which is relevant, then 2, 1, 0 (relevant): 0 is fourth.
    # Recall@1 = @2 = 1/2, @3 = 1; precision@1 = (0 + 1) / 2, @2 = (0 + 1) / 4, @3 = (1 + 1) / 6, @4 = (1 + 2) / 8.
    texts, images, relevant = at_angles(0, 90), at_angles(0, 10, 20, 90), [{2}, {3, 0}]
    found = {k: text_to_image_retrieval(texts, relevant, images, k=k) for k in (1, 2, 3, 4)}
    assert [found[k].recall for k in (1, 2, 3)] == [0.5, 0.5, 1.0]
    assert [found[k].precision for k in (1, 2, 3, 4)] == pytest.approx([1 / 2, 1 / 4, 2 / 6, 3 / 8])
    with pytest.raises(ValueError, match="non-empty"):
        text_to_image_retrieval(texts, [{2}, set()], images)


def test_class_text_embeddings_average_the_templates_and_renormalise() -> None:
    # The fake encoder maps the exact text "red" to axis 0 and any other text to axis 3, so "red" averages
    # to (1/2, 0, 0, 1/2), which renormalises to (sqrt(1/2), 0, 0, sqrt(1/2)); "green" likewise on axis 1.
    vectors = class_text_embeddings(FakeEncoder(), ["red", "green"], templates=["{}", "a photo of {}."])
    assert vectors == pytest.approx(np.array([[np.sqrt(0.5), 0, 0, np.sqrt(0.5)], [0, np.sqrt(0.5), 0, np.sqrt(0.5)]]))
    assert 8 <= len(TEMPLATES) <= 18 and all("{}" in t for t in TEMPLATES)


# Datasets ------------------------------------------------------------------------------------------


def test_gpr1200_names_and_domains() -> None:
    assert gpr1200_class(Path("17_abc.jpg")) == 17 and gpr1200_class(Path("1199_a_b.jpg")) == 1199
    assert gpr1200_class(Path("abc.jpg")) is None and gpr1200_class(Path("17.jpg")) is None
    assert [gpr1200_domain(c) for c in (0, 199, 200, 599, 600, 1000, 1199)] == [0, 0, 1, 2, 3, 5, 5]
    assert GPR1200_DOMAINS[gpr1200_domain(450)] == "sketches"
    with pytest.raises(UserError, match="1199"):
        gpr1200_domain(1200)


def test_gpr1200_flat_folder(tmp_path: Path) -> None:
    for name in ("250_a.jpg", "5_b.jpg", "5_a.jpg", "1100_a.jpg", "1100_b.jpg"):
        (tmp_path / name).touch()
    data = load_folder_dataset(tmp_path)
    assert [p.name for p in data.paths] == ["5_a.jpg", "5_b.jpg", "250_a.jpg", "1100_a.jpg", "1100_b.jpg"]
    assert data.labels.tolist() == [0, 0, 1, 2, 2] and data.class_names == ("5", "250", "1100")
    assert data.groups is not None and data.groups.tolist() == [0, 0, 1, 5, 5]
    assert data.group_names == GPR1200_DOMAINS and not data.named
    assert len(load_folder_dataset(tmp_path, limit_per_class=1).paths) == 3
    (tmp_path / "holiday.jpg").touch()
    with pytest.raises(UserError, match=r"holiday\.jpg"):
        load_folder_dataset(tmp_path)


def test_class_folders(tmp_path: Path) -> None:
    for name in ("a/x.jpg", "a/y.PNG", "b/z.jpg", "b/notes.txt", ".hidden/w.jpg"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).touch()
    (tmp_path / "c").mkdir()  # no images: not a class
    (tmp_path / "classes.tsv").write_text("wnid\tname\na\tapple\n", encoding="utf-8")
    data = load_folder_dataset(tmp_path)
    assert [p.name for p in data.paths] == ["x.jpg", "y.PNG", "z.jpg"] and data.labels.tolist() == [0, 0, 1]
    assert data.class_names == ("apple", "b") and data.groups is None and data.named
    assert load_folder_dataset(tmp_path, limit_per_class=1).labels.tolist() == [0, 1]


def test_dataset_errors(tmp_path: Path) -> None:
    with pytest.raises(FolderNotFoundError, match="does not exist"):
        load_folder_dataset(tmp_path / "missing")
    with pytest.raises(UserError, match="no images"):
        load_folder_dataset(tmp_path)
    (tmp_path / "only").mkdir()
    (tmp_path / "only" / "x.jpg").touch()
    with pytest.raises(UserError, match="fewer than two classes"):
        load_folder_dataset(tmp_path)


def test_tiny_imagenet_names_come_from_classes_tsv(shared_data: Path) -> None:
    data = load_folder_dataset(shared_data / "tiny-imagenet-val", limit_per_class=2)
    assert data.class_names[0] == "goldfish" and "bullfrog" in data.class_names
    assert len(data.paths) == 2 * len(data.class_names) and np.bincount(data.labels).tolist() == [2] * len(
        data.class_names
    )


# Runner and command line ---------------------------------------------------------------------------


@pytest.fixture
def colour_folders(tmp_path: Path) -> Path:
    root = make_colour_classes(tmp_path / "colours", per_class=3)
    (root / "red" / "red-9-broken.jpg").write_text("not a photo", encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def tiny_encoder(tmp_path_factory: pytest.TempPathFactory) -> Encoder:
    return Encoder(load_spec(TINY), Paths(tmp_path_factory.mktemp("home")), "cpu")


def test_evaluate_end_to_end(colour_folders: Path, tiny_encoder: Encoder) -> None:
    reports: list[Progress] = []
    report = evaluate(tiny_encoder, load_folder_dataset(colour_folders), reports.append, batch_size=4)
    assert (report.model, report.n_images, report.n_failed, report.n_classes) == ("tiny", 9, 1, 3)
    # With the query kept, each AP is at least (1/3) * (1/1 + 2/8 + 3/9) > 1/3 for three images per class.
    assert 1 / 3 < report.map <= 1 and report.group_maps == {}
    assert report.zero_shot_top1 is not None and report.zero_shot_top5 == 1.0  # three classes: always top-5
    for value in (report.knn_accuracy, report.zero_shot_top1, report.t2i_recall_at_5, report.t2i_precision_at_5):
        assert value is not None and 0 <= value <= 1
    assert reports[-1] == Progress("eval", 10, 10, message="embedding images")


def test_evaluate_gpr1200_groups_and_cancel(tmp_path: Path, tiny_encoder: Encoder) -> None:
    for name, colour in (("3_a", "red"), ("3_b", "red"), ("700_a", "blue"), ("700_b", "blue")):
        make_photo(tmp_path / f"{name}.jpg", colour)
    report = evaluate(tiny_encoder, load_folder_dataset(tmp_path))
    assert set(report.group_maps) == {"landmarks", "objects"} and report.zero_shot_top1 is None
    assert report.t2i_recall_at_5 is None and report.t2i_precision_at_5 is None
    assert 0.75 <= report.map <= 1  # worst AP: (1 + 2/4)/2
    token = CancelToken()
    token.cancel()
    with pytest.raises(Cancelled):
        evaluate(tiny_encoder, load_folder_dataset(tmp_path), cancel=token)


def test_cli_eval(home: Path, colour_folders: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["eval", str(colour_folders), "--limit-per-class", "2", "--json", "--model", str(TINY)]) == EXIT_OK
    data = json.loads(capsys.readouterr().out)
    assert {
        "model",
        "map",
        "knn_accuracy",
        "zero_shot_top1",
        "zero_shot_top5",
        "t2i_recall_at_5",
        "t2i_precision_at_5",
    } <= set(data)
    assert (data["n_images"], data["n_failed"], data["n_classes"]) == (6, 0, 3)  # the broken file sorts last
    assert all(
        0 <= data[key] <= 1
        for key in ("map", "knn_accuracy", "zero_shot_top1", "t2i_recall_at_5", "t2i_precision_at_5")
    )
    assert run(["eval", str(colour_folders), "--model", str(TINY)]) == EXIT_OK
    lines = capsys.readouterr().out.splitlines()
    assert "9 images, 3 classes, 1 unreadable" in lines[0] and lines[1].split() == [
        "I2I",
        "mAP",
        "kNN",
        "ZS",
        "top-1",
        "T2I",
        "R@5",
        "T2I",
        "P@5",
    ]
    assert lines[2].split()[0] == "all" and all(len(v.split(".")[1]) == 1 for v in lines[2].split()[1:])
    assert run(["eval", str(colour_folders / "missing"), "--model", str(TINY)]) == EXIT_USER
    assert "does not exist" in capsys.readouterr().err
