"""Which ImageNet-1k classes (the encoder's classifier head) speak for which of our concepts.

A concept's score is the softmax probability mass of its classes. Index ranges follow the standard
ILSVRC-2012 class order (the one EfficientNet-Lite0's head was trained with: 985 is daisy). Classes were
picked by name, before any photo was scored; `models/training/concept_eval.py` measures the result.
"""

from __future__ import annotations

from core.concepts import CAR, CAT, DOG, FOOD, INDOOR, MOUNTAIN, NATURE, PEOPLE, TEXT, WATER


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
    # Things seen (almost) only inside: furniture, shops and rooms, bathroom and kitchen fittings, appliances,
    # home and office electronics, indoor instruments and gym gear. Left out although often inside: what also
    # stands outdoors or is carried there (phones, cups and plates, vending machines, stages, candles, doors).
    INDOOR: (
        # furniture and furnishings
        423,  # barber chair
        431,  # bassinet
        453,  # bookcase
        492,  # chest
        493,  # chiffonier, commode
        495,  # china cabinet
        516,  # cradle
        520,  # crib
        526,  # desk
        532,  # dining table
        548,  # entertainment center
        553,  # file cabinet
        556,  # fire screen
        564,  # four-poster
        619,  # lampshade
        648,  # medicine chest
        669,  # mosquito net
        721,  # pillow
        741,  # prayer rug
        750,  # quilt
        765,  # rocking chair
        789,  # shoji
        831,  # studio couch
        846,  # table lamp
        857,  # throne
        894,  # wardrobe
        905,  # window shade
        # shops and rooms
        406,  # altar
        415,  # bakery
        424,  # barbershop
        454,  # bookshop
        467,  # butcher shop
        509,  # confectionery
        582,  # grocery store
        598,  # home theater
        624,  # library
        687,  # pipe organ
        762,  # restaurant
        788,  # shoe shop
        854,  # theater curtain
        860,  # tobacco shop
        865,  # toyshop
        884,  # vault
        # bathroom
        434,  # bath towel
        435,  # bathtub
        793,  # shower cap
        794,  # shower curtain
        804,  # soap dispenser
        861,  # toilet seat
        896,  # washbasin
        999,  # toilet tissue
        # kitchen and household appliances
        521,  # Crock Pot
        534,  # dishwasher
        545,  # electric fan
        550,  # espresso maker
        589,  # hair dryer
        606,  # iron
        651,  # microwave
        700,  # paper towel
        729,  # plate rack
        753,  # radiator
        760,  # refrigerator
        766,  # rotisserie
        811,  # space heater
        827,  # stove
        859,  # toaster
        882,  # vacuum cleaner
        891,  # waffle iron
        897,  # washing machine
        # home and office electronics
        482,  # cassette player
        485,  # CD player
        508,  # computer keyboard
        527,  # desktop computer
        528,  # dial telephone
        620,  # laptop
        632,  # loudspeaker
        662,  # modem
        664,  # monitor
        673,  # computer mouse
        681,  # notebook computer
        713,  # photocopier
        742,  # printer
        745,  # projector
        754,  # radio
        761,  # remote control
        782,  # CRT screen
        786,  # sewing machine
        810,  # space bar
        848,  # tape player
        851,  # television
        878,  # typewriter keyboard
        892,  # wall clock
        # indoor play, music and gym
        416,  # balance beam
        422,  # barbell
        496,  # Christmas stocking
        543,  # dumbbell
        579,  # grand piano
        602,  # horizontal bar
        611,  # jigsaw puzzle
        702,  # parallel bars
        736,  # pool table
        747,  # punching bag
        800,  # slot machine
        881,  # upright piano
    ),
}
