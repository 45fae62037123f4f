"""Image automation: scan registries for tags, pick one by policy, commit it back to Git.

The reflector half: ``repository`` scans an ImageRepository into the ``tags`` store (``scan``,
``names``, ``budget``, ``connect``); ``policy`` picks an ImagePolicy's tag (``choose``,
``access``); ``setup`` wires both into a manager.
"""

from tide.image.budget import RegistryBudget
from tide.image.choose import TagChooser
from tide.image.policy import ImagePolicyPipeline
from tide.image.repository import ImageRepositoryPipeline
from tide.image.tags import TagStore

__all__ = [
    "ImagePolicyPipeline",
    "ImageRepositoryPipeline",
    "RegistryBudget",
    "TagChooser",
    "TagStore",
]
