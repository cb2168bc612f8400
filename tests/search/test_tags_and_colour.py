"""Per-image tags (measured and manual), keyword search and colour search, kept to what
the user can see."""

from __future__ import annotations

import numpy as np
import pytest
from django.core.exceptions import ValidationError

from taste import tags
from taste.models import ImageEmbedding
from taste.search import SearchError
from taste.vocabulary import lab_to_hex

pytestmark = pytest.mark.django_db


def test_auto_tags_come_from_each_images_own_measurements(library):
    found = tags.auto_tags(library.pixel + library.photos)
    assert all(found[i.pk] for i in library.pixel + library.photos)
    # Pixel art and photographs don't measure alike: their tag sets differ.
    pixel = set().union(*(found[i.pk] for i in library.pixel))
    photo = set().union(*(found[i.pk] for i in library.photos))
    assert pixel != photo


def test_manual_tags_are_searchable_and_validated(library, alice, charlie):
    image = library.photos[0]
    tags.tag_add(image=image, user=alice, term="  Client  Favourite ")
    assert tags.image_tags(image)["manual"] == ["client favourite"]
    hits = tags.search_keyword(user=alice, term="client favourite")
    assert [h.image.pk for h in hits] == [image.pk]
    # charlie can't see alice's board: his search finds nothing, even by her tag.
    with pytest.raises(SearchError):
        tags.search_keyword(user=charlie, term="client favourite")
    with pytest.raises(ValidationError):
        tags.tag_add(image=image, user=alice, term="<script>")
    assert tags.tag_remove(image=image, term="client favourite")
    assert tags.image_tags(image)["manual"] == []


def test_keyword_search_uses_the_vocabulary_rules(library, alice):
    term = tags.auto_tags([library.pixel[0]])[library.pixel[0].pk][0]
    hits = tags.search_keyword(user=alice, term=term)
    assert library.pixel[0].pk in {h.image.pk for h in hits}
    assert all(h.score >= tags.TAG_MIN_MEMBERSHIP for h in hits)
    with pytest.raises(SearchError):
        tags.search_keyword(user=alice, term="zzz not a word")


def test_colour_search_finds_an_images_own_palette_colour(library, alice, charlie):
    photo = library.photos[0]
    row = ImageEmbedding.objects.get(sha256=photo.sha256, encoder_id=tags.DEFAULT_ENCODER_ID)
    lab = row.extra["descriptors"]["palette_lab"]
    share = row.extra["descriptors"]["palette_share"]
    colour = lab_to_hex(np.asarray(lab[int(np.argmax(share))]))
    hits = tags.search_colour(user=alice, hex_colour=colour, max_delta_e=3)
    assert photo.pk in {h.image.pk for h in hits}
    assert all(h.score > 0 for h in hits)
    tight = tags.search_colour(user=alice, hex_colour=colour, max_delta_e=0.5)
    wide = tags.search_colour(user=alice, hex_colour=colour, max_delta_e=40)
    assert len(tight) <= len(hits) <= len(wide)
    theirs = {i.pk for i in library.paintings}
    assert not theirs & {h.image.pk for h in wide}
    for bad in ("red", "#12345", "#gggggg"):
        with pytest.raises(SearchError):
            tags.search_colour(user=alice, hex_colour=bad)
    with pytest.raises(SearchError):
        tags.search_colour(user=alice, hex_colour=colour, max_delta_e=0)
