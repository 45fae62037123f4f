"""Image automation: scan registries for tags, pick one by policy, commit it back to Git."""

__all__: list[str] = []
