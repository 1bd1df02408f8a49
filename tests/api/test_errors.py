"""Error codes that cross a process boundary name an error class the API renders."""

from __future__ import annotations

from typing import get_args

import pytest

from bus.messages import RejectionCode
from services.errors import ServiceException, error_for


@pytest.mark.parametrize("code", get_args(RejectionCode))
def test_each_rejection_code_names_an_error_class(code: str) -> None:
    error = error_for(code, "refused")
    assert type(error).__name__ == code
    assert error.code == code
    assert error.message == "refused"


def test_an_unknown_code_is_a_service_exception() -> None:
    assert type(error_for("NoSuchException", "refused")) is ServiceException
