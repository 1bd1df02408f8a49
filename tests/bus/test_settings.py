"""Settings come from TARN_* variables; a misspelt one stops the process."""

from __future__ import annotations

import pytest

from bus.settings import Settings, SettingsError


def test_settings_read_tarn_variables() -> None:
    settings = Settings.from_env({"TARN_PORT": "5000", "TARN_WORKERS": "functions, pool"})
    assert settings.port == 5000
    assert settings.workers == ("functions", "pool")


def test_misspelt_variable_is_an_error_naming_the_known_ones() -> None:
    with pytest.raises(SettingsError, match=r"TARN_PROT is not a Tarn setting.*TARN_PORT"):
        Settings.from_env({"TARN_PROT": "5000"})


def test_value_of_the_wrong_kind_is_an_error() -> None:
    with pytest.raises(SettingsError, match="port"):
        Settings.from_env({"TARN_PORT": "many"})


def test_settings_survive_the_trip_through_child_environment() -> None:
    settings = Settings.from_env({}, port=1234, workers=("functions",), data_dir="/tmp/x")
    assert Settings.from_env(settings.to_env()) == settings


def test_overrides_win_over_variables_and_none_means_unset() -> None:
    settings = Settings.from_env({"TARN_PORT": "5000"}, port=6000, host=None)
    assert (settings.port, settings.host) == (6000, "127.0.0.1")


@pytest.mark.parametrize(
    ("variable", "value"), [("TARN_EXECUTOR", "dockr"), ("TARN_IMAGE_PULL", "sometimes")]
)
def test_a_choice_outside_its_choices_is_an_error(variable: str, value: str) -> None:
    with pytest.raises(SettingsError, match=variable.removeprefix("TARN_").lower()):
        Settings.from_env({variable: value})


def test_a_client_variable_is_not_a_setting_nor_an_error() -> None:
    """TARN_ENDPOINT is `tarn lambda`'s; `tarn up`, the workers and the companion ignore it."""
    assert Settings.from_env({"TARN_ENDPOINT": "http://127.0.0.1:4566"}) == Settings.from_env({})
