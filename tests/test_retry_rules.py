"""The retry rules as pure decisions: the table per safety class, and the backoff waits."""

from __future__ import annotations

import wacr_async as wacr
from wacr_async._retry import backoff_delay, is_retryable, no_wait
from wacr_async.errors import RequestInfo


def test_retry_table() -> None:
    info = RequestInfo("POST", "/messages/text")
    not_sent = wacr.APIConnectionError("refused", request=info, sent=False)
    maybe_sent = wacr.APITimeoutError("read timeout", request=info, sent=True)
    unknown = wacr.OutcomeUnknownError("dropped", request=info)
    limited = wacr.RateLimitError("429", status=429)
    busy = wacr.ServiceUnavailableError("503", status=503)
    not_found = wacr.NotFoundError("404", status=404)
    for safety in ("read", "idempotent"):
        assert is_retryable(not_sent, safety)
        assert is_retryable(maybe_sent, safety)
        assert is_retryable(limited, safety)
        assert is_retryable(busy, safety)
        assert not is_retryable(not_found, safety)
    assert is_retryable(not_sent, "unsafe")
    assert is_retryable(limited, "unsafe")
    assert not is_retryable(maybe_sent, "unsafe")
    assert not is_retryable(unknown, "unsafe")
    assert not is_retryable(busy, "unsafe")
    assert not is_retryable(not_found, "unsafe")


def test_backoff_is_capped_full_jitter() -> None:
    with no_wait():
        assert backoff_delay(5) == 0.0
    waits = [backoff_delay(n) for n in range(12) for _ in range(50)]
    assert all(0.0 <= w <= 8.0 for w in waits)
    assert max(backoff_delay(0) for _ in range(200)) <= 0.5
    assert len({round(w, 6) for w in waits}) > 100, "full jitter: waits spread, not fixed"
