"""Fixtures shared by the tooling's tests."""

from __future__ import annotations

import pytest


@pytest.fixture
def one_torch_thread():
    """One torch thread, as ``bgenv train`` runs (cloning is ~7x slower on two contended
    threads); use with ``pytestmark = pytest.mark.usefixtures("one_torch_thread")``."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
