"""The SecretVault: passwords hidden from the model, restored for tools on the same endpoint."""

from __future__ import annotations

from helpdesk.dsn import parse
from helpdesk.llm.redact import SecretVault

KV = "host=db.example.com port=5433 dbname=shop user=app password=S3cr3t-pw"
URI = "postgresql://app:p%40ss%20word@db.example.com:5433/shop?sslmode=disable"


def test_keyword_dsn_in_prose_is_masked_and_restored():
    vault = SecretVault()
    hidden = vault.hide(f"Users of {KV}. get errors")
    assert "S3cr3t-pw" not in hidden
    assert "host=db.example.com port=5433 dbname=shop user=app password=****. get errors" in hidden
    restored = vault.restore("host=db.example.com port=5433 dbname=shop user=app password=****")
    assert parse(restored)["password"] == "S3cr3t-pw"


def test_model_may_rewrite_the_dsn_for_another_database():
    vault = SecretVault()
    vault.hide(KV)
    restored = vault.restore("dbname=postgres host=db.example.com user=app port=5433")
    assert parse(restored)["password"] == "S3cr3t-pw" and parse(restored)["dbname"] == "postgres"


def test_password_is_never_sent_to_another_endpoint():
    vault = SecretVault()
    vault.hide(KV)
    for other in (
        "host=evil.example.com port=5433 dbname=shop user=app password=****",
        "host=db.example.com port=5432 dbname=shop user=app password=****",
        "host=db.example.com port=5433 dbname=shop user=admin password=****",
    ):
        assert vault.restore(other) == other


def test_a_password_the_model_wrote_is_left_alone():
    vault = SecretVault()
    vault.hide(KV)
    given = "host=db.example.com port=5433 user=app password=guess"
    assert vault.restore(given) == given


def test_uri_password_is_masked_and_restored_decoded():
    vault = SecretVault()
    hidden = vault.hide(f"see {URI}, please")
    assert (
        "p%40ss" not in hidden
        and "postgresql://app:****@db.example.com:5433/shop?sslmode=disable, please" in hidden
    )
    restored = vault.restore("postgresql://app:****@db.example.com:5433/shop")
    assert parse(restored)["password"] == "p@ss word"


def test_quoted_password_and_other_forms():
    vault = SecretVault()
    hidden = vault.hide("primary_conninfo = 'user=postgres password=''a b'' host=h port=1'")
    assert "a b" not in hidden
    hidden = vault.hide("host=h port=1 user=u password='it\\'s secret' dbname=d")
    assert "secret" not in hidden
    assert (
        parse(vault.restore("host=h port=1 user=u password=**** dbname=d"))["password"]
        == "it's secret"
    )
    assert "hunter22" not in vault.hide("ALTER ROLE app PASSWORD 'hunter22'")
    assert "hunter22" not in vault.hide("PGPASSWORD=hunter22 psql")


def test_a_known_password_is_hidden_wherever_it_appears():
    vault = SecretVault()
    vault.hide(KV)
    assert vault.hide('{"note": "pw is S3cr3t-pw"}') == '{"note": "pw is ****"}'


def test_a_password_equal_to_the_user_name_does_not_garble_the_text():
    vault = SecretVault()
    hidden = vault.hide("host=h port=5432 user=postgres password=postgres dbname=postgres")
    assert hidden == "host=h port=5432 user=postgres password=**** dbname=postgres"


def test_restore_args_touches_only_dsns():
    vault = SecretVault()
    vault.hide(KV)
    args = vault.restore_args(
        {
            "connection_string": "host=db.example.com port=5433 user=app password=****",
            "name": "x=1",
            "limit": 5,
        }
    )
    assert parse(args["connection_string"])["password"] == "S3cr3t-pw"
    assert args["name"] == "x=1" and args["limit"] == 5


def test_loopback_names_are_one_endpoint():
    vault = SecretVault()
    vault.hide("host=127.0.0.1 port=15432 user=postgres password=testpass dbname=testdb")
    assert (
        parse(vault.restore("host=localhost port=15432 user=postgres dbname=testdb"))["password"]
        == "testpass"
    )


def test_safety_net_masks_what_the_scan_does_not_recognise():
    vault = SecretVault()
    hidden = vault.hide('conn password="x y" redis://u:hunter22@cache:6379 PGPASSWORD=abc')
    assert "x y" not in hidden and "hunter22" not in hidden and "abc" not in hidden
    assert vault.hide("password=****. Then password=****'") == "password=****. Then password=****'"
    assert vault.hide("password=****x") == "password=****"


def test_restore_keeps_the_layout_and_quotes_when_needed():
    vault = SecretVault()
    vault.hide("host=h port=1 user=u password='a b\\\\c' dbname=d")
    restored = vault.restore("dbname=d host=h port=1 user=u password=****")
    assert restored.startswith("dbname=d host=h port=1 user=u password=")
    assert parse(restored)["password"] == "a b\\c"
    vault.hide("postgres://v:s%2Fx@h:1/d")
    restored = vault.restore("postgres://v:****@h:1/d?connect_timeout=3")
    assert restored == "postgres://v:s%2Fx@h:1/d?connect_timeout=3"
