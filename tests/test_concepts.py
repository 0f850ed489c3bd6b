from core.concepts import CONCEPTS, GROUP, INSTAGRAM_PHRASES, OUTDOOR, PEOPLE, TEXT, WATER, concepts_from_instagram


def test_counted_people_are_people_and_three_or_more_a_group():
    assert concepts_from_instagram(["1 person"]) == {PEOPLE}
    assert concepts_from_instagram(["2 people", "outdoor"]) == {PEOPLE, OUTDOOR}
    assert concepts_from_instagram(["12 people"]) == {PEOPLE, GROUP}
    assert concepts_from_instagram(["crowd"]) == {PEOPLE, GROUP}


def test_phrases_about_people_doing_things_count_as_people():
    assert concepts_from_instagram(["people smiling", "Text"]) == {PEOPLE, TEXT}


def test_water_phrases_share_one_concept_and_loose_phrases_map_to_nothing():
    assert concepts_from_instagram(["ocean", "beach", "pool"]) == {WATER}
    assert concepts_from_instagram(["shoes", "hat", "stripes"]) == frozenset()


def test_every_phrase_maps_to_a_known_concept():
    assert set(INSTAGRAM_PHRASES.values()) <= set(CONCEPTS)
