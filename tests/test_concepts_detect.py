"""The concept detectors (inference/concepts.py) and their evaluation step (models/training/concept_eval.py)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from core.concepts import CAT, CLOSEUP, CONCEPTS, DOG, FOOD, INDOOR, PEOPLE, SELFIE, SKY
from core.paths import DEMO_SAMPLES
from inference.analyzer import PhotoAnalyzer
from inference.concepts import DETECTED, ConceptDetector, named_concepts, pixel_cues
from inference.imagenet_concepts import IMAGENET_CONCEPTS
from inference.photo import DecodedPhoto, decode_photo, faces_of
from inference.photo_faces import Faces
from models.training.concept_eval import LABELS_FILE, concept_step, count, read_labels
from tests.image_fixtures import jpeg_bytes, textured_photo

FACE = Path(__file__).parent / "fixtures" / "face_astronaut.jpg"


def logits_on(*classes: int, strength: float = 12.0) -> np.ndarray:
    """One photo's logits with almost all the probability on `classes`."""
    row = np.zeros((1, 1000), dtype=np.float32)
    row[0, list(classes)] = strength
    return row


NO_OPINION = np.zeros((1, 1000), dtype=np.float32)  # every ImageNet class equally likely


def no_faces(photo) -> list[Faces]:
    return [Faces(np.zeros((0, 4), dtype=np.int64), photo.rgb_small.shape[1], photo.rgb_small.shape[0])]


def test_a_portrait_has_a_face_and_reads_as_people_closeup_and_selfie():
    """`fixtures/face_astronaut.jpg`: NASA's public-domain portrait of Eileen Collins, cropped to her face."""
    photo = decode_photo(FACE)
    faces = faces_of(photo)
    assert faces.count == 1 and faces.largest_share > 0.08
    [found] = ConceptDetector().detect([photo], NO_OPINION, [faces])
    assert {PEOPLE, CLOSEUP, SELFIE} <= found.present


def test_a_landscape_has_no_face_and_no_people():
    photo = decode_photo(DEMO_SAMPLES / "valley.jpg")
    assert faces_of(photo).count == 0
    [found] = ConceptDetector().detect([photo], NO_OPINION)
    assert PEOPLE not in found.present and SELFIE not in found.present


def test_imagenet_classes_name_the_animal_or_the_dish():
    photo = decode_photo(jpeg_bytes(textured_photo(300, 300)))
    detector = ConceptDetector()
    [dog] = detector.detect([photo], logits_on(207), no_faces(photo))  # golden retriever
    [cat] = detector.detect([photo], logits_on(281), no_faces(photo))  # tabby
    [pizza] = detector.detect([photo], logits_on(963), no_faces(photo))
    assert DOG in dog.present and CAT not in dog.present
    assert CAT in cat.present and DOG not in cat.present
    assert FOOD in pizza.present and CLOSEUP in pizza.present and DOG not in pizza.present


def busy_and_under_blue_sky() -> tuple[DecodedPhoto, DecodedPhoto]:
    """Random pixels everywhere, and the same with a smooth blue top half."""
    rng = np.random.default_rng(0)
    pixels = rng.integers(0, 255, size=(300, 300, 3), dtype=np.uint8)
    busy = decode_photo(jpeg_bytes(Image.fromarray(pixels)))
    pixels[:150] = (110, 170, 235)
    return busy, decode_photo(jpeg_bytes(Image.fromarray(pixels)))


def test_a_smooth_blue_top_reads_as_sky_and_a_busy_one_does_not():
    busy, blue_sky = busy_and_under_blue_sky()
    detector = ConceptDetector()
    [with_sky] = detector.detect([blue_sky], NO_OPINION, no_faces(blue_sky))
    [without] = detector.detect([busy], NO_OPINION, no_faces(busy))
    assert SKY in with_sky.present and SKY not in without.present


def test_a_room_class_without_sky_reads_as_indoor_and_under_a_sky_it_does_not():
    room, terrace = busy_and_under_blue_sky()
    detector = ConceptDetector()
    couch_and_lamp = logits_on(831, 846)  # studio couch, table lamp
    [inside] = detector.detect([room], couch_and_lamp, no_faces(room))
    [outside] = detector.detect([terrace], couch_and_lamp, no_faces(terrace))
    [unsure] = detector.detect([room], NO_OPINION, no_faces(room))
    assert INDOOR in inside.present and INDOOR not in outside.present and INDOOR not in unsure.present


def test_pixel_cues_measure_dark_light_green_and_sky_shares():
    pixels = np.zeros((300, 400, 3), dtype=np.uint8)  # black below
    pixels[:100] = (100, 150, 215)  # a smooth blue top third
    pixels[100:150] = (255, 255, 255)
    pixels[150:200] = (40, 160, 40)  # vegetation green
    cues = pixel_cues(pixels)
    assert cues.sky_share == pytest.approx(1.0, abs=0.02)
    assert cues.light_share == pytest.approx(1 / 6, abs=0.01) and cues.green_share == pytest.approx(1 / 6, abs=0.01)
    assert cues.dark_share == pytest.approx(1 / 3, abs=0.01)


def test_scores_cover_exactly_the_detected_concepts_and_present_is_those_at_half_or_more():
    photo = decode_photo(DEMO_SAMPLES / "sunset_beach.jpg")
    [found] = ConceptDetector().detect([photo], logits_on(978))  # seashore
    assert set(found.scores) == set(DETECTED) and set(DETECTED) <= set(CONCEPTS)
    assert found.present == {c for c, s in found.scores.items() if s >= 0.5}
    assert all(0.0 <= s <= 1.0 for s in found.scores.values())


def test_logits_and_photos_must_match():
    photo = decode_photo(DEMO_SAMPLES / "valley.jpg")
    with pytest.raises(ValueError):
        ConceptDetector().detect([photo, photo], NO_OPINION)
    with pytest.raises(ValueError):
        ConceptDetector().detect([photo], np.zeros((1, 10), dtype=np.float32))


def test_the_class_table_names_real_imagenet_classes_for_our_concepts():
    assert set(IMAGENET_CONCEPTS) <= set(CONCEPTS)
    assert all(0 <= i < 1000 for classes in IMAGENET_CONCEPTS.values() for i in classes)
    assert len(IMAGENET_CONCEPTS[DOG]) == 118 and IMAGENET_CONCEPTS[CAT] == (281, 282, 283, 284, 285)


def test_the_labels_hold_at_least_80_clive_photos_in_two_halves_in_our_vocabulary():
    labels = read_labels()
    clive = [p for p in labels if p.source == "clive"]
    assert len([p for p in clive if p.half in ("tune", "test")]) >= 80
    assert {p.half for p in clive} == {"tune", "test", "flagged"}
    assert all(p.concepts <= set(CONCEPTS) and p.concepts <= p.judged for p in labels)
    assert {p.source for p in labels} == {"clive", "demo", "sklearn"}


def test_precision_and_recall_count_only_judged_photos():
    labels = [p for p in read_labels() if p.source == "demo"][:3]
    truth = [p.concepts for p in labels]
    assert count(labels, truth, SKY).precision in (1.0, None) and count(labels, truth, SKY).recall in (1.0, None)
    wrong = [frozenset({CLOSEUP}) for _ in labels]  # closeup is not judged on demo scenes
    assert count(labels, wrong, CLOSEUP).judged == 0
    said_food = count(labels, [frozenset({FOOD}) for _ in labels], FOOD)
    assert said_food.false_positives == sum(FOOD not in p.concepts for p in labels)


def test_the_concepts_step_writes_its_figures_to_the_card(tmp_path):
    """A detector that answers the labels themselves scores 1.0; the card says so, written by the step."""
    clive = tmp_path / "clive"
    labels = read_labels(LABELS_FILE)
    for photo in labels:
        if photo.source == "clive":
            (clive / photo.image).parent.mkdir(parents=True, exist_ok=True)
            (clive / photo.image).write_bytes(b"")
    truth = [p.concepts for p in labels]
    concept_step(clive, lambda sources: truth, tmp_path, log=lambda line: None)
    section = json.loads((tmp_path / "card.json").read_text())["reports"]["concepts"]
    assert section["clive_test people"]["precision"] == 1.0 and section["clive_test people"]["recall"] == 1.0
    assert "Report: concepts" in (tmp_path / "MODEL_CARD.md").read_text()
    assert section["clive_flagged dog"]["precision"] == 1.0 and "recall" not in section["clive_flagged dog"]


def test_the_concepts_step_skips_a_folder_without_the_labelled_photos_and_says_so(tmp_path):
    lines: list[str] = []
    assert concept_step(tmp_path, lambda sources: [], tmp_path, log=lines.append) is None
    assert "skipped" in lines[0] and not (tmp_path / "card.json").exists()


def test_the_photo_analysis_names_what_the_photo_shows():
    """The analyser's own pass: faces once, the encoder's logits, the detector (the committed models)."""
    [portrait, beach] = PhotoAnalyzer().analyse([FACE, DEMO_SAMPLES / "sunset_beach.jpg"])
    assert PEOPLE in portrait.concepts and PEOPLE not in beach.concepts
    assert portrait.hand["face_count"] == 1 and beach.hand["face_count"] == 0  # the same faces feed both
    assert SKY in beach.concepts and beach.concepts <= set(DETECTED)


def test_only_concepts_detected_reliably_on_held_out_photos_are_named():
    report = {
        "clive_test people": {"precision": 0.6},
        "clive_test text": {"precision": 0.3},
        "clive_test dog": {"precision": 0.9},
        "clive_flagged dog": {"precision": 0.4},  # right on the sample, wrong on most flagged photos
        "clive_test cat": {"precision": None},
        "clive_flagged cat": {"precision": 0.9},
        "clive_test group": {"precision": None},  # never fired: no evidence either way
    }
    assert named_concepts({"reports": {"concepts": report}}) == {PEOPLE, CAT}
    assert named_concepts({}) == frozenset()
