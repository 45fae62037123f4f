"""The ``tide`` command: one module per verb group, assembled in :mod:`tide.cli.main`."""

__all__: list[str] = []
