"""What the hashtag engine hands back: the suggestions, each with its one-line reason, and the expected-engagement note."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from inference.hashtag_candidates import Candidate
from inference.hashtag_scoring import DEFAULT_SHRINKAGE_POSTS, TagScore

if TYPE_CHECKING:  # the likes side is an optional collaborator
    from inference.predictor import LikesPrediction


@dataclass(frozen=True)
class TagSuggestion:
    tag: str
    lift: float
    posts_seen: int
    reason: str
    fit: float = 0.0  # how likely the account is to use it on this photo (`tag_fit`)


@dataclass(frozen=True)
class HashtagAdvice:
    suggestions: list[TagSuggestion]
    expected_engagement: float  # likes + comments per post with these tags
    expected_rate: float
    account_rate: float
    note: str
    tags_considered: int = 0


def percent(value: float) -> str:
    return f"{abs(value) * 100:.0f}%"


def reason_for(score: TagScore, candidate: Candidate, recent_posts: int) -> str:
    """One line: how the tag's posts did, then why it is a candidate at all."""
    tag = f"#{score.tag}"
    if score.posts_seen == 0:
        performance = f"no stored posts under {tag} to judge it by yet"
    else:
        who = "posts like yours" if score.similarity_weighted else "posts"
        if abs(score.lift) < 0.005:
            trend = "do about as well as their accounts' usual"
        else:
            more = "more" if score.lift > 0 else "fewer"
            trend = f"get {percent(score.lift)} {more} likes+comments than their accounts' usual"
        plural = "post" if score.posts_seen == 1 else "posts"
        few = score.effective_posts < DEFAULT_SHRINKAGE_POSTS / 2
        shrunk = (
            ""
            if not few
            else ", few like yours, so pulled toward 0"
            if score.similarity_weighted
            else ", so pulled toward 0"
        )
        performance = f"{who} under {tag} {trend} ({score.posts_seen} {plural}{shrunk})"
    if candidate.own_uses:
        origin = f"you used it in {candidate.own_uses} of your last {recent_posts} posts"
        if candidate.own_uses_like_photo is not None and candidate.own_uses_compared:
            alike, compared = candidate.own_uses_like_photo, candidate.own_uses_compared
            of_them = "of them" if compared == candidate.own_uses else f"of the {compared} compared so far"
            origin += (
                f", {alike or 'none'} {of_them} on photos like this one"
                if alike < compared
                else (
                    ", all on photos like this one"
                    if compared == candidate.own_uses
                    else f", all {compared} compared so far on photos like this one"
                )
            )
    elif candidate.similar_posts:
        origin = f"on {candidate.similar_posts} of the stored posts most like your photo"
    elif candidate.cooccurs_with:
        origin = f"used with your #{candidate.cooccurs_with} on {candidate.shared_posts} posts"
    elif candidate.concept is not None:
        origin = f"often on other accounts' photos showing {candidate.concept}, as yours does"
    elif candidate.alike_accounts:
        origin = f"used by {candidate.alike_accounts} of the accounts whose tags are most like yours"
    else:
        origin = ""
    return f"{performance}; {origin}" if origin else performance


def reconcile_note(
    followers: int,
    account_rate: float,
    mean_lift: float,
    engagement: float,
    comments_mean: float,
    likes_mean: float,
    likes_prediction: LikesPrediction | None,
) -> str:
    """Say how the expected engagement was made and, beside a likes prediction, why the two differ."""
    basis = (
        f"Expected {engagement:,.0f} likes+comments = {followers:,} followers x your {account_rate:.2%} "
        f"average rate x (1 {'+' if mean_lift >= 0 else '-'} {percent(mean_lift)} mean tag lift)"
    )
    if likes_prediction is None:
        return basis
    tag_likes = max(engagement - comments_mean, 0.0)
    model = (
        f"the likes model predicts {likes_prediction.likes:,.0f} likes "
        f"({likes_prediction.low:,.0f}-{likes_prediction.high:,.0f})"
    )
    if likes_prediction.low <= tag_likes <= likes_prediction.high:
        return f"{basis}; about {tag_likes:,.0f} of them likes, within the range {model}"
    causes = []
    median = likes_prediction.baseline_median
    if median > 0 and abs(likes_mean - median) / median > 0.15:
        pull = "a few big hits pull it up" if likes_mean > median else "a few weak posts pull it down"
        causes.append(
            f"this uses your average ({likes_mean:,.0f} likes; {pull}) where the model starts from "
            f"your median ({median:,.0f})"
        )
    if likes_prediction.photo_effect_modelled and likes_prediction.appeal is not None:
        causes.append(f"the model rates this photo {likes_prediction.appeal:.0f}/100")
    causes.append("the model also weighs posting time and your recent trend")
    return (
        f"{basis}; that is about {tag_likes:,.0f} likes, {'above' if tag_likes > likes_prediction.high else 'below'} "
        f"the range {model}, because {'; '.join(causes)}. Trust the model for the count and this for "
        f"which tags help"
    )
