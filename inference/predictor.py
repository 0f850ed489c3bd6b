"""Predicted likes for a photo about to be posted: the committed likes models, loaded once and checked."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from core.records import Account
from inference.analyzer import PhotoAnalyzer
from inference.card import MODELS_DIR, load_card
from inference.likes_features import (
    IMAGE_LIKES_FEATURE_NAMES,
    IMAGE_LIKES_FEATURES_VERSION,
    LIKES_FEATURE_NAMES,
    LIKES_FEATURES_VERSION,
    MIN_REFERENCE_PHOTOS,
    AnalysedPhoto,
    PostFacts,
    TagPopularity,
    likes_features,
    photo_vs_recent,
)
from inference.onnx_model import ModelMismatchError, OnnxModel

if TYPE_CHECKING:
    from inference.analyzer import PhotoAnalysis

REFERENCE_PHOTOS = 20


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


class Predictor:
    """Loads `likes`, `likes_q10`, `likes_q90` (and `likes_image` if trained) once; `predict` is thread-safe."""

    def __init__(
        self,
        models_dir: Path = MODELS_DIR,
        threads: int = 1,
        analyse_paths: Callable[[list[Path]], list[AnalysedPhoto]] | None = None,
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

    def predict(
        self,
        account: Account,
        photos: Sequence[PhotoAnalysis],
        at: datetime | None = None,
        hashtags: Sequence[str] = (),
        caption_length: int = 0,
        mentions: int = 0,
        is_multi_image: bool = False,
        account_photos: Sequence[AnalysedPhoto] | None = None,
    ) -> list[LikesPrediction]:
        """One prediction per photo (one photo-less prediction when `photos` is empty).

        `account_photos`: analyses of the account's recent photos, newest first; without them the
        predictor analyses the post images it can find (needs `analyse_paths`).
        """
        at = at or datetime.now(UTC)
        facts = PostFacts(at, tuple(t.lower().lstrip("#") for t in hashtags), mentions, caption_length, is_multi_image)
        row = likes_features(
            account.posts,
            account.followers,
            account.following,
            account.posts_count,
            facts,
            self.tag_popularity,
            account.fetched_at,
        )
        if row.n_previous == 0:
            note = "This account has no earlier posts I can see, so I cannot estimate its likes yet."
            return [
                LikesPrediction(0.0, 0.0, 0.0, _appeal(p), 0.0, False, note, self.model_version)
                for p in (photos or [None])  # type: ignore[list-item]
            ]
        batch = row.features[None, :]
        centre = float(self.centre.run(batch).reshape(-1)[0])
        low = float(self.low.run(batch).reshape(-1)[0])
        high = float(self.high.run(batch).reshape(-1)[0])
        notes = [f"Based on the last {row.n_previous} posts (median {row.baseline_median:,.0f} likes)."]
        if row.n_previous < 5:
            notes.append("So few earlier posts make this a rough guess.")
        photo_shift, why = self._photo_effects(account, photos, centre, account_photos)
        if why:
            notes.append(why)
        predictions = []
        shifts: Sequence[float | None] = photo_shift or [None] * len(photos or [None])
        for photo, shift in zip(photos or [None], shifts):  # type: ignore[list-item]
            centre_p = centre if shift is None else shift
            # The range models know nothing of the photo: move the range with the photo's shift of the centre.
            offset = centre_p - centre
            lo, mid, hi = sorted((low + offset, centre_p, high + offset))
            predictions.append(
                LikesPrediction(
                    likes=_likes(mid, row.baseline_log),
                    low=_likes(lo, row.baseline_log),
                    high=_likes(hi, row.baseline_log),
                    appeal=_appeal(photo),
                    baseline_median=row.baseline_median,
                    photo_effect_modelled=shift is not None,
                    note=" ".join(notes),
                    model_version=self.model_version,
                )
            )
        return predictions

    def _photo_effects(
        self, account: Account, photos: Sequence[Any], centre: float, account_photos: Sequence[AnalysedPhoto] | None
    ) -> tuple[list[float] | None, str]:
        """Per photo, the image-aware prediction of the target, or None with the reason it is not modelled."""
        if not photos:
            return None, ""
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
        rows = np.stack([photo_vs_recent(centre, photo, reference[:REFERENCE_PHOTOS]) for photo in photos])
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
        if self._analyse_paths is None:
            self._analyse_paths = PhotoAnalyzer(models_dir=self._models_dir).analyse  # type: ignore[assignment]
        missing = [p for p in paths if p not in self._analysed]
        if missing:
            self._analysed.update(zip(missing, self._analyse_paths(missing)))  # type: ignore[misc]
        return [self._analysed[p] for p in paths]


def _likes(target: float, baseline_log: float) -> float:
    return max(0.0, math.expm1(target + baseline_log))


def _appeal(photo: Any) -> float | None:
    return None if photo is None else float(photo.appeal)
