import hashlib

from nlp.core.ids import content_key, external_key, opinion_key


def test_opinion_key_hashes_id_time_and_text_as_stored_keys_always_were():
    key = opinion_key("Q-1", "2024-08-01", "青石村那条路坑坑洼洼")
    assert key == "sha1:5a2ce28014af7d7a53bc4f780521a690b5c7ba13"
    old = "sha1:" + hashlib.sha1("7\x1fnan\x1f暖气不热".encode()).hexdigest()
    assert opinion_key(7, float("nan"), "暖气不热") == old  # ids and times as they format


def test_external_and_content_keys():
    assert external_key("QR-0031") == "ext:QR-0031"
    assert content_key("a", "", "b") == "sha1:" + hashlib.sha1(b"a\x1f\x1fb").hexdigest()
    assert content_key("a", "b") != content_key("ab")
