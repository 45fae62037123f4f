"""Source controller: turns remote sources into verifiable artifacts other controllers consume.

One pipeline per kind — GitRepository (``gitrepository.py``, with ``git/``), HelmRepository and
HelmChart (``helmrepository.py``, ``helmchart.py``, with ``helm/``), OCIRepository
(``ocirepository.py``, with ``oci/``) — plus the ArtifactGenerator, which writes
ExternalArtifacts from other sources' artifacts (``generator/``). All of them store into one
:class:`tide.artifacts.Storage` served over HTTP; ``setup.py`` wires every kind into a manager.
Bucket has a model and a CRD but no pipeline yet.
"""

from tide.source.gitrepository import GitRepositoryPipeline
from tide.source.setup import GIT_REPOSITORY, SourceOptions, SourceRuntime, setup

__all__ = ["GIT_REPOSITORY", "GitRepositoryPipeline", "SourceOptions", "SourceRuntime", "setup"]
