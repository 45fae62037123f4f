"""notifier_for(): every type Flux's v1beta3 Provider API allows has a sender."""

from __future__ import annotations

from typing import get_args

import pytest

from tide.api.notification import ProviderType
from tide.notification.providers import SUPPORTED_TYPES

pytestmark = pytest.mark.unit


def test_every_provider_type_of_the_api_is_supported() -> None:
    assert set(get_args(ProviderType)) == SUPPORTED_TYPES
