"""The photo concepts likepredict reasons about, and how Instagram's own image descriptions map onto them.

Instagram describes a photo with phrases such as "2 people", "outdoor", "closeup" or "text" (the
`image_concepts` of influencers-2019). The likes model learns from these groups, and at serving time the
project's own detectors (faces, the encoder's ImageNet classes) name the same groups for a new photo, so
training and serving speak one vocabulary.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

PEOPLE = "people"  # one or more people
GROUP = "group"  # three or more people
SELFIE = "selfie"
CLOSEUP = "closeup"
TEXT = "text"  # text, a screenshot, a poster
FOOD = "food"
DOG = "dog"
CAT = "cat"
CAR = "car"
WATER = "water"  # sea, beach, lake, pool
MOUNTAIN = "mountain"
SKY = "sky"
NATURE = "nature"  # trees, plants, flowers, grass
OUTDOOR = "outdoor"
INDOOR = "indoor"
NIGHT = "night"

CONCEPTS: tuple[str, ...] = (
    PEOPLE,
    GROUP,
    SELFIE,
    CLOSEUP,
    TEXT,
    FOOD,
    DOG,
    CAT,
    CAR,
    WATER,
    MOUNTAIN,
    SKY,
    NATURE,
    OUTDOOR,
    INDOOR,
    NIGHT,
)

# Instagram's phrase (lower case) -> our concept. Phrases not listed ("shoes", "hat", ...) are too rare or too
# loose to learn an effect from and map to nothing.
INSTAGRAM_PHRASES: dict[str, str] = {
    "1 person": PEOPLE,
    "one or more people": PEOPLE,
    "child": PEOPLE,
    "baby": PEOPLE,
    "beard": PEOPLE,
    "crowd": GROUP,
    "selfie": SELFIE,
    "closeup": CLOSEUP,
    "text": TEXT,
    "food": FOOD,
    "dessert": FOOD,
    "drink": FOOD,
    "dog": DOG,
    "cat": CAT,
    "car": CAR,
    "motorcycle": CAR,
    "water": WATER,
    "ocean": WATER,
    "beach": WATER,
    "pool": WATER,
    "swimming": WATER,
    "mountain": MOUNTAIN,
    "snow": MOUNTAIN,
    "sky": SKY,
    "cloud": SKY,
    "twilight": SKY,
    "nature": NATURE,
    "tree": NATURE,
    "plant": NATURE,
    "flower": NATURE,
    "grass": NATURE,
    "outdoor": OUTDOOR,
    "indoor": INDOOR,
    "night": NIGHT,
}

_COUNTED_PEOPLE = re.compile(r"^(\d+) people$")


def concepts_from_instagram(phrases: Iterable[str]) -> frozenset[str]:
    """Our concepts for one of Instagram's image descriptions ("2 people", "outdoor" -> people, outdoor)."""
    found: set[str] = set()
    for phrase in phrases:
        text = phrase.strip().lower()
        counted = _COUNTED_PEOPLE.match(text)
        if counted:
            found.add(PEOPLE)
            if int(counted.group(1)) >= 3:
                found.add(GROUP)
        elif text.startswith("people "):  # "people standing", "people smiling", ...
            found.add(PEOPLE)
        elif text in INSTAGRAM_PHRASES:
            found.add(INSTAGRAM_PHRASES[text])
    if GROUP in found:
        found.add(PEOPLE)
    return frozenset(found)
