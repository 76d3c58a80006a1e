"""Typed results of the API: frozen attrs classes, built by the converter in ``_converter``.

Models that list endpoints return by the page (contacts, groups, sources, statuses, messages,
templates, authentication templates, comments) are declared with ``slots=False``: attrs builds
a frozen instance with a ``__dict__`` markedly faster than one with slots, and a page of 100
contacts is built in the time the next page is on its way.
"""
