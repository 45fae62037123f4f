"""The web dashboard ``tide dashboard`` serves (being written)."""

__all__: list[str] = []
