"""The pieces of the ``wacr`` command; ``wacr_async.cli`` is the entry point."""
