"""Settings come from FLEET_* variables, flags win, and bad values are refused naming the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from router.runtime.settings import SETTINGS, SettingsError, load_settings, settings_markdown


def test_defaults_match_the_design() -> None:
    settings = load_settings([], {"FLEET_MODEL_MAP": "map.yaml"})
    assert settings.model_map == Path("map.yaml")
    assert (settings.host, settings.port) == ("127.0.0.1", 11434)
    assert settings.api_keys == () and settings.admin_keys == () and settings.origins == ()


def test_flags_override_the_environment() -> None:
    env = {"FLEET_MODEL_MAP": "a.yaml", "FLEET_HOST": "10.0.0.1", "FLEET_PORT": "1234"}
    settings = load_settings(["--model-map", "b.json", "--host", "127.0.0.1", "--port", "8080"], env)
    assert (settings.model_map, settings.host, settings.port) == (Path("b.json"), "127.0.0.1", 8080)


def test_lists_are_comma_separated_and_trimmed() -> None:
    env = {
        "FLEET_MODEL_MAP": "m",
        "FLEET_API_KEYS": " k1, k2 ,,",
        "FLEET_ADMIN_KEYS": "root",
        "FLEET_ORIGINS": "https://app.example.com, http://*.example.org",
    }
    settings = load_settings([], env)
    assert settings.api_keys == ("k1", "k2")
    assert settings.admin_keys == ("root",)
    assert settings.origins == ("https://app.example.com", "http://*.example.org")


def test_timeouts_and_limits_are_read() -> None:
    env = {
        "FLEET_MODEL_MAP": "m",
        "FLEET_MAX_BODY_BYTES": "1024",
        "FLEET_CONNECT_TIMEOUT": "1.5",
        "FLEET_FIRST_BYTE_TIMEOUT": "30",
        "FLEET_IDLE_TIMEOUT": "7",
        "FLEET_LISTING_CACHE": "0",
    }
    settings = load_settings([], env)
    assert settings.max_body_bytes == 1024
    assert (settings.connect_timeout, settings.first_byte_timeout, settings.idle_timeout) == (1.5, 30.0, 7.0)
    assert settings.listing_cache == 0.0


def test_resilience_settings_are_read() -> None:
    env = {
        "FLEET_MODEL_MAP": "m",
        "FLEET_RETRY_DEADLINE": "12",
        "FLEET_CIRCUIT_FAILURES": "4",
        "FLEET_CIRCUIT_OPEN_SECONDS": "7.5",
        "FLEET_PROBE_INTERVAL": "0",
        "FLEET_PROBE_TIMEOUT": "1",
        "FLEET_RESOLVE_INTERVAL": "20",
        "FLEET_QUEUE_LENGTH": "0",
        "FLEET_QUEUE_WAIT": "3",
        "FLEET_RELOAD_INTERVAL": "2",
        "FLEET_DRAIN_SECONDS": "45",
        "FLEET_DRAIN_NOTICE_SECONDS": "5",
    }
    settings = load_settings([], env)
    assert (settings.retry_deadline, settings.circuit_failures, settings.circuit_open_seconds) == (12.0, 4, 7.5)
    assert (settings.probe_interval, settings.probe_timeout, settings.resolve_interval) == (0.0, 1.0, 20.0)
    assert (settings.queue_length, settings.queue_wait, settings.reload_interval) == (0, 3.0, 2.0)
    assert (settings.drain_seconds, settings.drain_notice_seconds) == (45.0, 5.0)
    assert isinstance(settings.circuit_failures, int) and isinstance(settings.queue_length, int)


def test_resilience_defaults() -> None:
    settings = load_settings([], {"FLEET_MODEL_MAP": "m"})
    assert (settings.circuit_failures, settings.circuit_open_seconds, settings.retry_deadline) == (3, 10.0, 30.0)
    assert (settings.probe_interval, settings.probe_timeout, settings.resolve_interval) == (5.0, 2.0, 10.0)
    assert (settings.queue_length, settings.queue_wait, settings.reload_interval) == (64, 30.0, 1.0)
    assert (settings.drain_seconds, settings.drain_notice_seconds) == (30.0, 3.0)


@pytest.mark.parametrize(
    ("env", "argv", "named"),
    [
        ({}, [], "FLEET_MODEL_MAP"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_PORT": "http"}, [], "FLEET_PORT"),
        ({"FLEET_MODEL_MAP": "m"}, ["--port", "70000"], "--port"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_IDLE_TIMEOUT": "-1"}, [], "FLEET_IDLE_TIMEOUT"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_MAX_BODY_BYTES": "1.5"}, [], "FLEET_MAX_BODY_BYTES"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_LOG_LEVEL": "loud"}, [], "FLEET_LOG_LEVEL"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_CIRCUIT_FAILURES": "0"}, [], "FLEET_CIRCUIT_FAILURES"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_QUEUE_LENGTH": "-1"}, [], "FLEET_QUEUE_LENGTH"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_PROBE_INTERVAL": "often"}, [], "FLEET_PROBE_INTERVAL"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_DRAIN_SECONDS": "0"}, [], "FLEET_DRAIN_SECONDS"),
        ({"FLEET_MODEL_MAP": "m", "FLEET_DRAIN_NOTICE_SECONDS": "30"}, [], "FLEET_DRAIN_NOTICE_SECONDS"),
    ],
)
def test_bad_values_name_the_setting(env: dict[str, str], argv: list[str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        load_settings(argv, env)


START, END = "<!-- router-settings:start -->\n", "<!-- router-settings:end -->"


def test_router_page_carries_the_current_settings_table() -> None:
    page = (Path(__file__).resolve().parents[2] / "docs" / "router.md").read_text(encoding="utf-8")
    assert START in page and END in page, "docs/router.md lost its router-settings markers"
    table = page.split(START, 1)[1].split(END, 1)[0]
    assert table == settings_markdown(), "paste router.runtime.settings.settings_markdown() into docs/router.md"


def test_every_setting_is_read_from_its_variable() -> None:
    variables = [described.env for _, described in SETTINGS]
    assert len(set(variables)) == len(variables) and all(name.startswith("FLEET_") for name in variables)
    settings = load_settings([], {"FLEET_MODEL_MAP": "m", "FLEET_QUEUE_WAIT": "7", "FLEET_HOST": "10.0.0.1"})
    assert (settings.queue_wait, settings.host) == (7.0, "10.0.0.1")


def test_keepalive_outlasts_the_google_load_balancer_and_refuses_bad_values() -> None:
    assert load_settings([], {"FLEET_MODEL_MAP": "m"}).keepalive == 620
    assert load_settings(["--keepalive", "5"], {"FLEET_MODEL_MAP": "m", "FLEET_KEEPALIVE": "9"}).keepalive == 5
    assert load_settings([], {"FLEET_MODEL_MAP": "m", "FLEET_KEEPALIVE": "9"}).keepalive == 9
    for bad in ("0", "-1", "1.5", "forever"):
        with pytest.raises(SettingsError, match=rf"FLEET_KEEPALIVE: .*{bad!r}"):
            load_settings([], {"FLEET_MODEL_MAP": "m", "FLEET_KEEPALIVE": bad})
    with pytest.raises(SettingsError, match="--keepalive"):
        load_settings(["--keepalive", "soon"], {"FLEET_MODEL_MAP": "m"})
