"""Which ImageNet-1k classes (the encoder's classifier head) speak for which of our concepts.

A concept's score is the softmax probability mass of its classes. Index ranges follow the standard
ILSVRC-2012 class order (the one EfficientNet-Lite0's head was trained with: 985 is daisy). Classes were
picked by name, before any photo was scored; `models/training/concept_eval.py` measures the result.
"""

from __future__ import annotations

from core.concepts import CAR, CAT, DOG, FOOD, MOUNTAIN, NATURE, PEOPLE, TEXT, WATER


def _span(first: int, last: int) -> tuple[int, ...]:
    return tuple(range(first, last + 1))


IMAGENET_CONCEPTS: dict[str, tuple[int, ...]] = {
    DOG: _span(151, 268),  # Chihuahua .. Mexican hairless
    CAT: _span(281, 285),  # tabby, tiger cat, Persian, Siamese, Egyptian cat
    FOOD: (
        *_span(924, 935),  # guacamole .. mashed potato
        *_span(936, 957),  # vegetables and fruit: head cabbage .. pomegranate
        *_span(959, 969),  # carbonara .. eggnog (red wine, espresso, cup)
        415,  # bakery
        441,  # beer glass
        572,  # goblet
        809,  # soup bowl
        923,  # plate
        567,  # frying pan
        926,  # hot pot
    ),
    CAR: (
        407,  # ambulance
        436,  # beach wagon
        468,  # cab
        479,  # car wheel
        511,  # convertible
        581,  # grille
        609,  # jeep
        627,  # limousine
        656,  # minivan
        661,  # Model T
        665,  # moped
        670,  # motor scooter
        717,  # pickup
        734,  # police van
        751,  # racer
        817,  # sports car
        864,  # tow truck
    ),
    WATER: (
        449,  # boathouse
        460,  # breakwater
        472,  # canoe
        484,  # catamaran
        536,  # dock
        576,  # gondola
        625,  # lifeboat
        628,  # liner
        693,  # paddle
        718,  # pier
        780,  # schooner
        814,  # speedboat
        871,  # trimaran
        914,  # yawl
        973,  # coral reef
        975,  # lakeside
        976,  # promontory
        977,  # sandbar
        978,  # seashore
        983,  # scuba diver
    ),
    MOUNTAIN: (
        500,  # cliff dwelling
        672,  # mountain tent
        970,  # alp
        972,  # cliff
        974,  # geyser
        976,  # promontory
        979,  # valley
        980,  # volcano
    ),
    TEXT: (
        454,  # bookshop
        458,  # brass, memorial tablet, plaque
        549,  # envelope
        781,  # scoreboard
        916,  # web site
        917,  # comic book
        918,  # crossword puzzle
        919,  # street sign
        921,  # book jacket
        922,  # menu
    ),
    # ImageNet has no "person" class; these are people or things people wear in the picture.
    PEOPLE: (
        400,  # academic gown
        411,  # apron
        445,  # bikini
        457,  # bow tie
        474,  # cardigan
        578,  # gown
        608,  # jean
        610,  # jersey, T-shirt
        614,  # kimono
        617,  # lab coat
        629,  # lipstick
        638,  # maillot
        639,  # maillot, tank suit
        652,  # military uniform
        655,  # miniskirt
        667,  # mortarboard
        697,  # pajama
        834,  # suit
        836,  # sunglass
        837,  # sunglasses
        841,  # sweatshirt
        842,  # swimming trunks
        869,  # trench coat
        903,  # wig
        906,  # Windsor tie
        981,  # ballplayer
        982,  # groom
    ),
    NATURE: (
        *_span(300, 326),  # insects and butterflies, mostly photographed on plants
        580,  # greenhouse
        738,  # pot, flowerpot
        984,  # rapeseed
        985,  # daisy
        986,  # yellow lady's slipper
        *_span(988, 990),  # acorn, hip, buckeye
        *_span(991, 998),  # fungi, ear of corn
    ),
}
