"""Helm sources: what HelmRepository and HelmChart reconciles are made of.

The modules here are the steps the two pipelines (:mod:`tide.source.helmrepository`,
:mod:`tide.source.helmchart`) run: reading and selecting from a repository index
(:mod:`~tide.source.helm.index`), talking to chart repositories over HTTP(S)
(:mod:`~tide.source.helm.remote`) and OCI registries (:mod:`~tide.source.helm.oci`), merging
values files (:mod:`~tide.source.helm.values`) and packaging charts with the Helm SDK
(:mod:`~tide.source.helm.build`). Each failure carries the Flux reason it is reported with
(:mod:`~tide.source.helm.reasons`).
"""

from tide.source.helm.build import Build, BuildError
from tide.source.helm.index import ChartVersion, IndexInvalid, RepositoryIndex, parse_index
from tide.source.helm.remote import ClientOptions, FetchError

__all__ = [
    "Build",
    "BuildError",
    "ChartVersion",
    "ClientOptions",
    "FetchError",
    "IndexInvalid",
    "RepositoryIndex",
    "parse_index",
]
