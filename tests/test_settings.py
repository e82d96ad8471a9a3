"""Settings grouped by concern still read the environment as one flat object: the same variable
names, defaults, bounds and cross-field checks, whether read through `Settings` or through one group."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from boxoffice import settings as settings_module
from boxoffice.domain import Strategy
from boxoffice.settings import (
    GROUPS,
    AuthSettings,
    DatabaseSettings,
    HttpSettings,
    RedisSettings,
    Settings,
    env_names,
    get_settings,
)


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """No variable of the machine running the tests, and no `.env` (read from the working directory)."""
    for field_name, field in Settings.model_fields.items():
        for env in env_names(field_name, field):
            monkeypatch.delenv(env, raising=False)
    monkeypatch.chdir(tmp_path)


def test_every_setting_is_in_exactly_one_group_and_settings_has_every_group() -> None:
    owners: dict[str, list[str]] = {}
    for group in GROUPS:
        assert issubclass(Settings, group)
        for name in group.model_fields:
            owners.setdefault(name, []).append(group.__name__)
    assert {name: groups for name, groups in owners.items() if len(groups) > 1} == {}
    assert set(owners) == set(Settings.model_fields)


def test_variables_are_read_flat_and_by_group(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOFFICE_DB_POOL_MAX", "7")
    monkeypatch.setenv("BOXOFFICE_REDIS_KEY_PREFIX", "other:")
    monkeypatch.setenv("BOXOFFICE_DEFAULT_STRATEGY", "REDIS")
    monkeypatch.setenv("BOXOFFICE_SINGLE_FLIGHT", "false")
    monkeypatch.setenv("DATABASE_URL", "postgresql://plain/db")
    monkeypatch.setenv("BOXOFFICE_DATABASE_URL", "postgresql://prefixed/db")
    monkeypatch.setenv("BOXOFFICE_REDIS_URL", "redis://prefixed:6379/1")

    settings = Settings()
    assert settings.db_pool_max == 7
    assert settings.redis_key_prefix == "other:"
    assert settings.default_strategy is Strategy.REDIS
    assert settings.single_flight is False
    assert settings.database_url == "postgresql://plain/db"  # the unprefixed name wins, as before
    assert settings.redis_url == "redis://prefixed:6379/1"  # either name is read
    database = DatabaseSettings()
    assert (database.db_pool_max, database.database_url) == (7, "postgresql://plain/db")
    assert RedisSettings().redis_key_prefix == "other:"


def test_dotenv_file_in_the_working_directory_is_read(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text("BOXOFFICE_PORT=9090\nREDIS_URL=redis://from-dotenv:6379/0\n")
    settings = Settings()
    assert (settings.port, settings.redis_url) == (9090, "redis://from-dotenv:6379/0")


def test_defaults() -> None:
    settings = Settings()
    assert settings.database_url is None
    assert settings.redis_url == "redis://127.0.0.1:6379/0"
    assert (settings.host, settings.port, settings.keep_alive_s) == ("127.0.0.1", 8080, 75)
    assert (settings.db_pool_min, settings.db_pool_max, settings.db_acquire_timeout_s) == (2, 20, 2.0)
    assert (settings.claim_batch_max, settings.seats_per_user, settings.hold_ttl_s) == (256, 10, 300)
    assert (settings.rate_limit_per_ip, settings.rate_limit_per_user, settings.max_body_bytes) == (600, 60, 4096)
    assert (settings.auth_mode, settings.session_ttl_s) == ("open", 7 * 86_400)
    assert 1 <= settings.workers <= 8


def test_bounds_and_validators_reject_bad_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOXOFFICE_PORT", "0")
    with pytest.raises(ValidationError, match="port"):
        Settings()
    with pytest.raises(ValidationError, match="port"):
        HttpSettings()
    monkeypatch.delenv("BOXOFFICE_PORT")

    with pytest.raises(ValidationError, match="not-a-network"):
        Settings(trusted_proxies="10.0.0.0/8, not-a-network")
    assert Settings(trusted_proxies="10.0.0.1/8, 192.0.2.7").trusted_proxy_list == ["10.0.0.0/8", "192.0.2.7"]
    with pytest.raises(ValidationError, match="redis_sentinels"):
        Settings(redis_sentinels="host-without-port")

    # Cross-field: jwt mode needs a key, through the whole object or its group alike.
    for cls in (Settings, AuthSettings):
        with pytest.raises(ValidationError, match="BOXOFFICE_JWT_SECRET or BOXOFFICE_JWT_PUBLIC_KEY"):
            cls(auth_mode="jwt")
        assert cls(auth_mode="jwt", jwt_secret="s" * 32).auth_mode == "jwt"


def test_settings_are_frozen_and_copied_with_changes() -> None:
    settings = Settings()
    with pytest.raises(ValidationError):
        settings.db_pool_max = 3  # type: ignore[misc]
    smaller = settings.model_copy(update={"db_pool_max": 3})
    assert (smaller.db_pool_max, settings.db_pool_max) == (3, 20)
    assert Settings(ws_allowed_origins="https://a.example/, https://b.example").ws_origins == {
        "https://a.example",
        "https://b.example",
    }


def test_get_settings_reads_the_environment_once(monkeypatch: pytest.MonkeyPatch) -> None:
    get_settings.cache_clear()
    try:
        monkeypatch.setenv("BOXOFFICE_SEED_ROWS", "3")
        first = get_settings()
        monkeypatch.setenv("BOXOFFICE_SEED_ROWS", "4")
        assert get_settings() is first
        assert first.seed_rows == 3
        assert isinstance(first, Settings)
    finally:
        get_settings.cache_clear()


def test_env_names_follow_the_prefix_and_the_aliases() -> None:
    fields = Settings.model_fields
    assert env_names("db_pool_max", fields["db_pool_max"]) == ["BOXOFFICE_DB_POOL_MAX"]
    assert env_names("database_url", fields["database_url"]) == ["DATABASE_URL", "BOXOFFICE_DATABASE_URL"]
    assert env_names("redis_url", fields["redis_url"]) == ["REDIS_URL", "BOXOFFICE_REDIS_URL"]
    assert settings_module.ENV_PREFIX == "BOXOFFICE_"
