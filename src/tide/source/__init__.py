"""Source controller: turns Git (and, next, Helm and OCI) sources into verifiable artifacts."""

from tide.source.gitrepository import GitRepositoryPipeline
from tide.source.setup import GIT_REPOSITORY, SourceOptions, SourceRuntime, setup

__all__ = ["GIT_REPOSITORY", "GitRepositoryPipeline", "SourceOptions", "SourceRuntime", "setup"]
