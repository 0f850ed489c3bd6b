"""Predicted likes for a photo about to be posted: the committed likes models, loaded once and checked.

The photo counts through the concepts it shows (`photo.concepts`, core.concepts names): they are features of
the likes model, learned from Instagram's descriptions of the 2019 posts. The same row with the concepts
unknown gives the photo-blind figure; the card's within-account concept effects say which concepts to name.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from core.records import Account
from core.tags import normalize_tag
from inference.analyzer import PhotoAnalyzer
from inference.card import MODELS_DIR, load_card
from inference.concepts import named_concepts
from inference.likes_features import (
    LIKES_FEATURE_NAMES,
    LIKES_FEATURES_VERSION,
    LikesRow,
    PostFacts,
    TagPopularity,
    account_likes_features,
    at_times,
    nothing_shown,
    photo_blind,
)
from inference.likes_image_features import (
    IMAGE_LIKES_FEATURE_NAMES,
    IMAGE_LIKES_FEATURES_VERSION,
    MIN_REFERENCE_PHOTOS,
    AnalysedPhoto,
    photo_vs_recent,
)
from inference.onnx_model import ModelMismatchError, OnnxModel

REFERENCE_PHOTOS = 20


@runtime_checkable
class DescribedPhoto(Protocol):
    """A photo the concept detectors described (an `inference.analyzer.PhotoAnalysis`): its concepts and shape
    are likes features. An empty `concepts` is known to show none of them."""

    @property
    def appeal(self) -> float: ...

    @property
    def concepts(self) -> frozenset[str]: ...

    @property
    def width(self) -> int: ...

    @property
    def height(self) -> int: ...


# A photo with its appeal and hand features only (the demo's image model) is predicted photo-blind.
PhotoForLikes = DescribedPhoto | AnalysedPhoto


@dataclass(frozen=True)
class ConceptEffect:
    """How much more (or less) likes posts showing `concept` get within an account, learned from 2019 posts."""

    concept: str
    change: float  # +0.15 = 15 % more likes
    low: float  # 90 % interval
    high: float
    supported: bool  # the held-out accounts show the same direction


@dataclass(frozen=True)
class LikesPrediction:
    """Likes expected for one photo, a likely (80 %) range, and what the figure rests on."""

    likes: float
    low: float
    high: float
    appeal: float | None
    baseline_median: float  # median likes of the account's previous posts
    photo_effect_modelled: bool
    note: str
    model_version: str
    photo_effects: tuple[ConceptEffect, ...] = ()  # supported effects of concepts the photo shows
    photo_blind_likes: float = 0.0  # the same prediction with the photo's concepts unknown
    nothing_shown_likes: float = 0.0  # the same with a described photo that shows none of the concepts


def photo_concepts(photo: PhotoForLikes | None, reliable: frozenset[str]) -> frozenset[str] | None:
    """The photo's detected concepts among the `reliable` ones, None (unknown) for a photo the detectors did not
    describe. The model learned from Instagram's own descriptions: a detector wrong more often than right (text
    fired on every demo photo) would move a prediction by that concept's whole effect, so it counts as not seen."""
    return frozenset(photo.concepts) & reliable if isinstance(photo, DescribedPhoto) else None


def concept_effects_of(entry: dict[str, Any]) -> dict[str, ConceptEffect]:
    return {
        name: ConceptEffect(name, float(e["change"]), float(e["low"]), float(e["high"]), bool(e["supported"]))
        for name, e in entry.get("concept_effects", {}).items()
    }


class Predictor:
    """Loads `likes`, `likes_q10`, `likes_q90` (and `likes_image` if trained) once; `predict` is thread-safe."""

    def __init__(
        self,
        models_dir: Path = MODELS_DIR,
        threads: int = 1,
        analyse_paths: Callable[[list[Path]], Sequence[AnalysedPhoto]] | None = None,
    ) -> None:
        card = load_card(models_dir / "card.json")
        self.centre, self.low, self.high = (
            OnnxModel(name, models_dir, threads, card) for name in ("likes", "likes_q10", "likes_q90")
        )
        for model in (self.centre, self.low, self.high):
            model.check_schema(LIKES_FEATURE_NAMES, LIKES_FEATURES_VERSION)
        tags = self.centre.entry["tag_popularity"]
        try:
            self.tag_popularity = TagPopularity.load(models_dir / tags["file"], tags["sha256"])
        except (OSError, ValueError) as error:
            raise ModelMismatchError(str(error)) from None
        self.range_widening = float(self.centre.entry.get("range_widening", 1.0))
        self.concept_effects = concept_effects_of(self.centre.entry)
        self.reliable_concepts = named_concepts(card)
        self.time_effect: dict[str, Any] = dict(self.centre.entry.get("time_effect", {}))
        self.image_model: OnnxModel | None = None
        if "likes_image" in card.get("models", {}):
            self.image_model = OnnxModel("likes_image", models_dir, threads, card)
            self.image_model.check_schema(IMAGE_LIKES_FEATURE_NAMES, IMAGE_LIKES_FEATURES_VERSION)
        self._analyse_paths = analyse_paths
        self._card_models: dict[str, Any] = card.get("models", {})
        self._models_dir = models_dir
        self._analysed: dict[Path, AnalysedPhoto] = {}

    @property
    def model_version(self) -> str:
        return self.centre.version

    def row(
        self,
        account: Account,
        at: datetime,
        photo: PhotoForLikes | None = None,
        hashtags: Sequence[str] = (),
        caption_length: int = 0,
        mentions: int = 0,
        is_multi_image: bool = False,
    ) -> LikesRow:
        """The likes model's feature row for a post of `photo` (None: photo-blind) at `at`."""
        described = photo if isinstance(photo, DescribedPhoto) else None
        facts = PostFacts(
            at,
            tuple(normalize_tag(t) for t in hashtags),
            mentions,
            caption_length,
            is_multi_image,
            concepts=photo_concepts(described, self.reliable_concepts),
            width=None if described is None else described.width,
            height=None if described is None else described.height,
        )
        return account_likes_features(account, facts, self.tag_popularity)

    def rate_times(self, row: LikesRow, times: Sequence[datetime]) -> np.ndarray:
        """The centre's log-likes (relative to the account median) of the post moved to each of `times`."""
        return self.centre.run(at_times(row, times)).reshape(-1).astype(float)

    def predict(
        self,
        account: Account,
        photos: Sequence[PhotoForLikes],
        at: datetime | None = None,
        hashtags: Sequence[str] = (),
        caption_length: int = 0,
        mentions: int = 0,
        is_multi_image: bool = False,
        slides: int = 1,
        account_photos: Sequence[AnalysedPhoto] | None = None,
    ) -> list[LikesPrediction]:
        """One prediction per photo (one photo-less prediction when `photos` is empty).

        For a carousel pass its photos with `is_multi_image=True` (`slides`: how many; the model knows only
        that it is a carousel): the first photo is the cover. `account_photos`: analyses of the account's
        recent photos, newest first, for the demo's image model; without them it analyses the post images it
        finds (needs `analyse_paths`).
        """
        at = at or datetime.now(UTC)
        items: list[PhotoForLikes | None] = list(photos) or [None]
        rows = [self.row(account, at, p, hashtags, caption_length, mentions, is_multi_image) for p in items]
        first = rows[0]
        if first.n_previous == 0:
            note = "This account has no earlier posts I can see, so I cannot estimate its likes yet."
            return [LikesPrediction(0.0, 0.0, 0.0, _appeal(p), 0.0, False, note, self.model_version) for p in items]
        batch = np.stack([r.features for r in rows])
        centre = self.centre.run(batch).reshape(-1).astype(float)
        low = self.low.run(batch).reshape(-1).astype(float)
        high = self.high.run(batch).reshape(-1).astype(float)
        blind = self.centre.run(photo_blind(batch)).reshape(-1).astype(float)
        plain = self.centre.run(nothing_shown(batch)).reshape(-1).astype(float)
        notes = [f"Based on the last {first.n_previous} posts (median {first.baseline_median:,.0f} likes)."]
        if first.n_previous < 5:
            notes.append("So few earlier posts make this a rough guess.")
        photo_shift, why = self._photo_effects(account, photos, float(centre[0]), account_photos)
        if why:
            notes.append(why)
        shifts: Sequence[float | None] = photo_shift or [None] * len(items)
        predictions = []
        for i, (photo, shift) in enumerate(zip(items, shifts)):
            mid = centre[i] if shift is None else shift
            offset = mid - centre[i]  # the range models know nothing of the demo's image model: move with it
            lo, _, hi = sorted((low[i] + offset, mid, high[i] + offset))
            lo, hi = mid - self.range_widening * (mid - lo), mid + self.range_widening * (hi - mid)
            base = first.baseline_log
            shown = photo_concepts(photo, self.reliable_concepts) or frozenset()
            predictions.append(
                LikesPrediction(
                    likes=_likes(mid, base),
                    low=_likes(lo, base),
                    high=_likes(hi, base),
                    appeal=_appeal(photo),
                    baseline_median=first.baseline_median,
                    photo_effect_modelled=shift is not None or isinstance(photo, DescribedPhoto),
                    note=" ".join(notes),
                    model_version=self.model_version,
                    photo_effects=tuple(
                        effect
                        for name, effect in sorted(self.concept_effects.items())
                        if name in shown and effect.supported
                    ),
                    photo_blind_likes=_likes(blind[i] + offset, base),
                    nothing_shown_likes=_likes(plain[i] + offset, base),
                )
            )
        return predictions

    def _photo_effects(
        self,
        account: Account,
        photos: Sequence[PhotoForLikes],
        centre: float,
        account_photos: Sequence[AnalysedPhoto] | None,
    ) -> tuple[list[float] | None, str]:
        """Per photo, the demo image model's prediction of the target, or None with the reason it is not used.

        The image model was learned from the synthetic demo data, so it serves the demo accounts alone; real
        accounts get the photo's effect through its concepts."""
        if not photos:
            return None, ""
        if any(isinstance(p, DescribedPhoto) for p in photos):
            return None, "The photo's effect comes from what it shows, learned from real 2019 posts."
        if self.image_model is None:
            return None, "The photo's own effect on likes is not modelled; its appeal score is shown beside it."
        data = self.image_model.entry.get("data", {})
        if data.get("synthetic") and account.handle not in data.get("account_handles", []):
            return None, (
                "The photo's own effect on likes is not modelled for real accounts (it was learned from "
                "synthetic demo data only); its appeal score is shown beside it."
            )
        appeal_sha = self._card_models.get("appeal", {}).get("sha256")
        if data.get("appeal_model_sha256") != appeal_sha:
            return None, (
                "The photo's own effect is not modelled: the appeal model changed after the image-aware "
                "likes model was trained (run `likepredict train --only image-likes`)."
            )
        reference = list(account_photos) if account_photos is not None else self._recent_photos(account)
        if len(reference) < MIN_REFERENCE_PHOTOS:
            return None, (
                "The photo's own effect is not modelled: I need at least "
                f"{MIN_REFERENCE_PHOTOS} of the account's own photos to compare with."
            )
        analysed = [p for p in photos if isinstance(p, AnalysedPhoto)]
        if len(analysed) != len(photos):
            return None, "The photo's own effect is not modelled for photos without hand features."
        rows = np.stack([photo_vs_recent(centre, photo, reference[:REFERENCE_PHOTOS]) for photo in analysed])
        note = "The photo's effect compares it with the account's recent photos."
        if data.get("synthetic"):
            note += " (Learned from synthetic demo data.)"
        return [float(v) for v in self.image_model.run(rows).reshape(-1)], note

    def _recent_photos(self, account: Account) -> list[AnalysedPhoto]:
        paths = [
            Path(p.image_path)
            for p in account.posts_newest_first()
            if p.image_path is not None and Path(p.image_path).is_file()
        ][:REFERENCE_PHOTOS]
        if not paths:
            return []
        analyse = self._analyse_paths
        if analyse is None:
            analyse = self._analyse_paths = PhotoAnalyzer(models_dir=self._models_dir).analyse
        missing = [p for p in paths if p not in self._analysed]
        if missing:
            self._analysed.update(zip(missing, analyse(missing)))
        return [self._analysed[p] for p in paths]


def _likes(target: float, baseline_log: float) -> float:
    return max(0.0, math.expm1(target + baseline_log))


def _appeal(photo: PhotoForLikes | None) -> float | None:
    return None if photo is None else float(photo.appeal)
