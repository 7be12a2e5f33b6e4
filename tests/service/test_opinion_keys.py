"""Received opinions are stored under keys made by nlp.core.ids, with the values they always had
(a database filled earlier must keep matching them)."""

import pytest

pytest.importorskip("fastapi")

from service.routes.opinions import opinion_key
from service.schemas import OpinionIn


def test_received_opinions_keep_the_keys_they_were_stored_under():
    assert opinion_key(OpinionIn(text="暖气不热", external_id="QR-0031")) == "ext:QR-0031"
    item = OpinionIn(text="暖气不热", source="12345", time="2024-11-20 08:00")
    assert opinion_key(item) == "sha1:b727b071c7c0b43a12515b3176b50e37e754258a"
