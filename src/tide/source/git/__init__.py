"""Git access for the source controller, through the real ``git`` command."""

__all__: list[str] = []
