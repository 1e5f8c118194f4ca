"""Personal fields: authenticated encryption with rotatable keys, and a blind index."""

from __future__ import annotations

import pytest

from clubplatform import crypto

ID = "11010519491231002X"


def _ring(enc="k2:new-secret,k1:old-secret", index="index-secret"):
    return crypto.Keyring.from_config(enc, index)


def test_a_sealed_value_opens_to_the_original():
    ring = _ring()
    assert crypto.decrypt(crypto.encrypt(ID, ring), ring) == ID


def test_the_stored_form_does_not_contain_the_value():
    sealed = crypto.encrypt(ID, _ring())
    assert ID not in sealed and "1949" not in sealed


def test_sealing_the_same_value_twice_gives_different_ciphertexts():
    ring = _ring()
    assert crypto.encrypt(ID, ring) != crypto.encrypt(ID, ring)


def test_a_tampered_value_is_refused():
    ring = _ring()
    sealed = crypto.encrypt(ID, ring)
    head, body = sealed.rsplit(".", 1)
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(f"{head}.{flipped}", ring)


def test_the_first_key_seals_and_older_keys_still_open():
    old = _ring("k1:old-secret")
    sealed_with_old = crypto.encrypt(ID, old)
    rotated = _ring("k2:new-secret,k1:old-secret")
    assert crypto.decrypt(sealed_with_old, rotated) == ID
    assert crypto.key_id(crypto.encrypt(ID, rotated)) == "k2"


def test_a_value_sealed_with_a_removed_key_cannot_be_opened():
    sealed = crypto.encrypt(ID, _ring("k1:old-secret"))
    with pytest.raises(crypto.DecryptionFailed):
        crypto.decrypt(sealed, _ring("k2:new-secret"))


def test_blind_index_is_stable_across_key_rotation_and_case():
    a = crypto.blind_index(ID.lower(), _ring("k1:old"))
    b = crypto.blind_index(ID, _ring("k2:new,k1:old"))
    assert a == b and len(a) == 64


def test_blind_index_depends_on_its_key():
    assert crypto.blind_index(ID, _ring(index="one")) != crypto.blind_index(ID, _ring(index="two"))


def test_rotating_the_key_reseals_stored_id_numbers_with_the_new_key(app, db, runner):
    import sqlalchemy as sa

    from chapter.owners.models import Owner
    from clubplatform.tenancy import chapter_scope
    from tests.factories import make_chapter, make_owner

    chapter = make_chapter()
    owner = make_owner(chapter, id_number=ID)
    old_key = app.config["FIELD_ENCRYPTION_KEY"]
    with chapter_scope(chapter.id):
        sealed_before = db.session.execute(
            sa.select(Owner.id_number_enc).where(Owner.id == owner.id)).scalar_one()
    app.config["FIELD_ENCRYPTION_KEY"] = f"k9:brand-new-secret,k1:{old_key}"
    try:
        result = runner.invoke(args=["hq", "rotate-field-key"])
        assert result.exit_code == 0, result.output
        assert "owners.id_number_enc: 1 re-sealed" in result.output
        with chapter_scope(chapter.id):
            db.session.expire_all()
            sealed = db.session.execute(
                sa.select(Owner.id_number_enc).where(Owner.id == owner.id)).scalar_one()
        assert crypto.key_id(sealed) == "k9" and sealed != sealed_before
        with app.app_context():
            assert crypto.decrypt(sealed) == ID
        again = runner.invoke(args=["hq", "rotate-field-key"])
        assert "owners.id_number_enc: 0 re-sealed" in again.output
    finally:
        app.config["FIELD_ENCRYPTION_KEY"] = old_key
