"""What a post is, as likes features: its type, what the photo shows, its shape, and the account's comments.

Concepts come from core.concepts: in training from Instagram's own description of the photo
(`Post.image_concepts`), at serving from the project's detectors (`PhotoAnalysis.concepts`). Where neither
exists the concept features say unknown (-1), which is also how a "photo-blind" prediction is made.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from core.concepts import CONCEPTS, concepts_from_instagram
from core.records import Post

UNKNOWN = -1.0
OWN_LIFT_SHRINKAGE_POSTS = 2.0  # an account's lift for a type or concept is shrunk as if 2 more posts scored 0
SETTLED_AGE_DAYS = 30.0  # the age a served prediction is for: likes long settled

CONCEPT_FEATURE_NAMES: list[str] = [f"concept_{c}" for c in CONCEPTS]
CONTENT_FEATURE_NAMES: list[str] = [
    "same_type_lift",  # the account's previous posts of this type (image / carousel / video) vs its median
    "same_type_share",
    "comments_known",
    "log_comments_per_like",  # median comments per like of the previous posts, 0 unknown
    "concepts_known",
    *CONCEPT_FEATURE_NAMES,  # 1 shown, 0 not shown, -1 unknown
    "size_known",
    "aspect_log",  # log(height / width): portrait > 0, 0 square or unknown
    "log_age_days",  # the post's age when its likes were counted (training); SETTLED_AGE_DAYS when served
]


def kind_of(is_multi_image: bool, is_video: bool) -> str:
    """image / carousel / video, as influencers-2019 names a post's type."""
    return "video" if is_video else "carousel" if is_multi_image else "image"


def post_concepts(post: Post) -> frozenset[str] | None:
    """Our concepts for a post from Instagram's description, None where it had none."""
    return None if post.image_concepts is None else concepts_from_instagram(post.image_concepts)


def _shrunk_mean(values: Sequence[float]) -> float:
    return sum(values) / (len(values) + OWN_LIFT_SHRINKAGE_POSTS)


def content_features(
    kind: str,
    concepts: frozenset[str] | None,
    width: int | None,
    height: int | None,
    age_days: float | None,
    history: Sequence[Post],
    log_median: float,
) -> dict[str, float]:
    """Content features of a post given the account's previous posts with likes (newest first)."""
    rel = [math.log1p(p.likes or 0) - log_median for p in history]
    same = [r for p, r in zip(history, rel) if kind_of(p.is_multi_image, p.is_video) == kind]
    ratios = [p.comments / (p.likes + 1) for p in history if p.comments is not None and p.likes is not None]
    features = {
        "same_type_lift": _shrunk_mean(same),
        "same_type_share": len(same) / len(history) if history else UNKNOWN,
        "comments_known": float(bool(ratios)),
        "log_comments_per_like": math.log(float(np.median(ratios)) + 1e-4) if ratios else 0.0,
        "concepts_known": float(concepts is not None),
        "size_known": float(bool(width and height)),
        "aspect_log": math.log(height / width) if width and height else 0.0,
        "log_age_days": math.log1p(min(max(age_days if age_days is not None else SETTLED_AGE_DAYS, 0.0), 30.0)),
    }
    for concept, name in zip(CONCEPTS, CONCEPT_FEATURE_NAMES):
        features[name] = UNKNOWN if concepts is None else float(concept in concepts)
    return features
