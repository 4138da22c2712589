"""Fixtures: a real SMTP server and a real webhook receiver on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from receivers import SmtpServer, WebhookReceiver


@pytest.fixture
def smtp() -> Iterator[SmtpServer]:
    with SmtpServer() as server:
        yield server


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with WebhookReceiver() as r:
        yield r
