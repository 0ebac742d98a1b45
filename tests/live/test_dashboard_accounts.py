"""Dashboard users (accounts.py) on a real SQLite file: creation rules, login checks, the
installation's session secret."""
from __future__ import annotations

import pytest

from ces.accounts import AccountError, check_login, create_user
from ces.storage import Storage
from ces.storage.installation_secrets import installation_secret


@pytest.fixture
def storage(tmp_path) -> Storage:
    s = Storage(str(tmp_path / "ces.db"))
    s.migrate()
    return s


def test_a_user_logs_in_with_their_password_only(storage: Storage) -> None:
    row = create_user(storage, " Ana@Example.COM ", "correct horse battery", 1.0)
    assert row["email"] == "ana@example.com" and row["site_id"] is None
    assert check_login(storage, "ANA@example.com", "correct horse battery")["id"] == row["id"]
    assert check_login(storage, "ana@example.com", "correct horse batterY") is None
    assert check_login(storage, "bo@example.com", "correct horse battery") is None
    assert check_login(storage, "ana@example.com", "") is None
    assert "password_hash" not in check_login(storage, "ana@example.com", "correct horse battery")


@pytest.mark.parametrize("email,password,site,field", [
    ("nope", "correct horse battery", None, "email"),
    ("a@b.c", "short", None, "password"),
    ("a@b.c", "x" * 2000, None, "password"),
    ("a@b.c", "correct horse battery", 999, "site"),
])
def test_bad_input_names_its_field_and_stores_nothing(storage: Storage, email, password, site, field) -> None:
    with pytest.raises(AccountError) as err:
        create_user(storage, email, password, 1.0, site_id=site)
    assert err.value.field == field
    assert storage.all("select id from dashboard_users") == []


def test_an_email_is_taken_once(storage: Storage) -> None:
    create_user(storage, "a@b.c", "correct horse battery", 1.0)
    with pytest.raises(AccountError) as err:
        create_user(storage, "A@B.C", "another long password", 2.0)
    assert err.value.field == "email" and len(storage.all("select id from dashboard_users")) == 1


def test_the_installation_secret_is_made_once(storage: Storage, tmp_path) -> None:
    first = installation_secret(storage, "session_key", 1.0)
    assert len(first) == 64 and installation_secret(storage, "session_key", 2.0) == first
    other = Storage(str(tmp_path / "other.db"))
    other.migrate()
    assert installation_secret(other, "session_key", 1.0) != first
