"""`likepredict train` step "concepts": how well each concept detector (`inference.concepts`) does on photos
whose content is known, written to the card as precision and recall per concept.

The labelled photos (`concept_labels.csv`, one row a photo: source, image, half, concepts present, concepts
not judged):
- `clive`: 120 CLIVE photos drawn at random (seed 12) and labelled by the `concepts` helper, one person,
  by looking at each photo (500x500) for every concept of `core.concepts.CONCEPTS`. Rules: a person counts
  when at least about a tenth of the photo high (a crowd of tiny figures does not), hands count; a group is
  three or more such people; closeup = the subject fills most of the frame; selfie = a face taken at arm's
  length by its owner; text = words one can read, large enough to be part of the subject; sky = at least
  about a tenth of the photo; night = taken in the dark outdoors or through a window at night; nature =
  plants, trees, flowers, grass, wild animals; drinks count as food. One person's judgement, not a panel's.
  Split by a hash of the file name: thresholds were chosen on the `tune` half only; the `test` half is what
  the card reports first.
- `clive` half `flagged`: every other CLIVE photo (of all 960) that the detector, with its thresholds
  fixed, said shows a dog, cat, car, food or text, looked at for those concepts only (223 photos: those
  flagged with the first logits, the mean over six views, and with the encoder's single 288 px pass; the
  serving pass is now 320 px, and photos only it flags were not looked at). This measures
  precision on many more photos than the random sample holds for rare concepts; it says nothing of recall
  (photos the detector missed were never looked at), so the card gives no recall for it. Indoor likewise:
  every other CLIVE photo the serving detector (thresholds fixed) says is indoor, 129 photos (26 of them among
  the 223 above; 326 flagged photos in all), looked at for indoor only by the `indoor` helper, a second
  person. Indoor = the photo shows an interior (walls, ceiling, furniture, shop fittings) or bedding; an object
  on a surface with no sign of where, a crowd under a tent or awning, a display seen through glass is not.
- `demo`: the 184 synthetic drawn scenes of demo/ (beach, food, city, nature; the scene read from the
  generator's hashtag neighbourhoods), each scene's concepts fixed by what the generator draws. Indoor is
  judged (absent) on the beach, city and nature scenes, drawn under a sky; not on the food scenes (a plate on
  a plain brown ground could be anywhere).
- `sklearn`: scikit-learn's two sample photos (china.jpg: a pagoda over a lake with trees; flower.jpg: a
  dahlia close up).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from core.concepts import CONCEPTS
from core.paths import DEMO_DIR, MODELS_DIR
from inference.analyzer import PhotoAnalyzer
from inference.card import update_card
from inference.concepts import DETECTED

LABELS_FILE = Path(__file__).with_name("concept_labels.csv")
Detect = Callable[[Sequence[bytes | Path]], list[frozenset[str]]]
Log = Callable[[str], None]


@dataclass(frozen=True)
class LabelledPhoto:
    source: str  # clive | demo | sklearn
    image: str
    half: str  # tune | test
    concepts: frozenset[str]
    judged: frozenset[str]  # the concepts whose presence or absence the label states


@dataclass(frozen=True)
class Counts:
    true_positives: int = 0
    false_positives: int = 0
    false_negatives: int = 0
    judged: int = 0

    @property
    def precision(self) -> float | None:
        flagged = self.true_positives + self.false_positives
        return self.true_positives / flagged if flagged else None

    @property
    def recall(self) -> float | None:
        positives = self.true_positives + self.false_negatives
        return self.true_positives / positives if positives else None

    def as_dict(self) -> dict[str, Any]:
        def rounded(value: float | None) -> float | None:
            return None if value is None else round(value, 3)

        return {
            "precision": rounded(self.precision),
            "recall": rounded(self.recall),
            "positives": self.true_positives + self.false_negatives,
            "flagged": self.true_positives + self.false_positives,
            "judged": self.judged,
        }


def read_labels(path: Path = LABELS_FILE) -> list[LabelledPhoto]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [
            LabelledPhoto(
                row["source"],
                row["image"],
                row["half"],
                frozenset(row["concepts"].split()),
                frozenset(CONCEPTS) - frozenset(row["unjudged"].split()),
            )
            for row in csv.DictReader(handle)
        ]


def sklearn_photo(name: str) -> bytes:
    from PIL import Image
    from sklearn.datasets import load_sample_image

    buffer = io.BytesIO()
    Image.fromarray(load_sample_image(name)).save(buffer, format="PNG")
    return buffer.getvalue()


def photo_source(photo: LabelledPhoto, clive_dir: Path) -> bytes | Path:
    if photo.source == "clive":
        return clive_dir / photo.image
    if photo.source == "demo":
        return DEMO_DIR / photo.image
    return sklearn_photo(photo.image)


def count(labelled: Sequence[LabelledPhoto], detected: Sequence[frozenset[str]], concept: str) -> Counts:
    tp = fp = fn = judged = 0
    for photo, found in zip(labelled, detected):
        if concept not in photo.judged:
            continue
        judged += 1
        truth, said = concept in photo.concepts, concept in found
        tp += truth and said
        fp += said and not truth
        fn += truth and not said
    return Counts(tp, fp, fn, judged)


def evaluation_sets(labelled: Sequence[LabelledPhoto]) -> dict[str, list[int]]:
    """Named subsets (row numbers): the held-out CLIVE half first, then the tuning half and the others."""
    sets: dict[str, list[int]] = {"clive_test": [], "clive_tune": [], "clive_flagged": [], "demo": [], "sklearn": []}
    for i, photo in enumerate(labelled):
        sets["clive_" + photo.half if photo.source == "clive" else photo.source].append(i)
    return sets


def evaluate(labelled: Sequence[LabelledPhoto], detected: Sequence[frozenset[str]]) -> dict[str, Any]:
    """The card section: per concept and photo set, precision and recall (None where undefined)."""
    section: dict[str, Any] = {}
    for name, rows in evaluation_sets(labelled).items():
        photos, found = [labelled[i] for i in rows], [detected[i] for i in rows]
        for concept in DETECTED:
            counts = count(photos, found, concept)
            if counts.judged:
                entry = counts.as_dict()
                if name == "clive_flagged":  # only what the detector flagged was looked at: no recall
                    del entry["recall"], entry["positives"]
                section[f"{name} {concept}"] = entry
    undetected = [c for c in CONCEPTS if c not in DETECTED]
    if undetected:
        section["not detected"] = ", ".join(undetected)
    section["labels"] = (
        f"{LABELS_FILE.name}: clive photos labelled by one person by eye (tune/test halves by file-name hash; "
        "flagged: the other photos the detector flagged, checked for precision), "
        "demo scenes from the generator, sklearn sample photos; see models/training/concept_eval.py"
    )
    return section


def concept_step(
    clive_dir: Path, detect: Detect, models_dir: Path = MODELS_DIR, log: Log = print
) -> dict[str, Any] | None:
    """Detect every labelled photo's concepts and write the card section; None (and a line) without CLIVE."""
    labelled = read_labels()
    missing = [p.image for p in labelled if p.source == "clive" and not (clive_dir / p.image).is_file()]
    if missing:
        log(f"[concepts] skipped: {len(missing)} labelled CLIVE photos are not in {clive_dir} (first: {missing[0]})")
        return None
    detected = detect([photo_source(p, clive_dir) for p in labelled])
    section = evaluate(labelled, detected)
    for concept in DETECTED:
        entry = section.get(f"clive_test {concept}")
        if entry:
            log(f"[concepts] {concept:9} held-out CLIVE: precision {entry['precision']}, recall {entry['recall']} "
                f"({entry['positives']} with it of {entry['judged']})")  # fmt: skip
    return update_card({}, models_dir, {"concepts": section})


def encoder_detect(models_dir: Path = MODELS_DIR) -> Detect:
    """Concepts exactly as serving finds them: `PhotoAnalyzer.analyse(...).concepts`."""
    analyzer = PhotoAnalyzer(models_dir)

    def detect(sources: Sequence[bytes | Path]) -> list[frozenset[str]]:
        found: list[frozenset[str]] = []
        for start in range(0, len(sources), 16):
            found += [analysis.concepts for analysis in analyzer.analyse(sources[start : start + 16])]
        return found

    return detect
