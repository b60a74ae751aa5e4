"""The server's start-up runs without the cycle collector and freezes what it built."""

from __future__ import annotations

import gc

from parity.serve.collector import collector_paused_for_startup


def test_start_up_pauses_the_collector_then_freezes_its_objects() -> None:
    assert gc.isenabled()
    frozen_before = gc.get_freeze_count()
    try:
        with collector_paused_for_startup():
            assert not gc.isenabled()
            built = [{"row": i} for i in range(1000)]  # what a start-up keeps for good
        assert gc.isenabled()
        assert gc.get_freeze_count() >= frozen_before + len(built)
    finally:
        gc.unfreeze()


def test_a_failed_start_up_still_turns_the_collector_back_on() -> None:
    try:
        try:
            with collector_paused_for_startup():
                raise RuntimeError("the model did not load")
        except RuntimeError:
            pass
        assert gc.isenabled()
    finally:
        gc.unfreeze()
