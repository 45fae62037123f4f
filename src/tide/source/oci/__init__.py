"""OCI artifacts for OCIRepository: the distribution API client and the pure steps around it.

``refs`` reads ``spec.url`` and ``spec.ref`` the way Flux does; ``auth`` reads Docker config
Secrets and ``WWW-Authenticate`` challenges (TLS and proxy Secrets: :mod:`tide.kube.transport`);
``manifest`` reads manifests; ``client`` talks to a registry; ``layer`` chooses and unpacks the
layer; ``connect`` puts the Secrets an object names together into a client; ``pull`` is the
remote step of the reconcile, whose failures carry Flux's reasons. The pipeline itself lives in
:mod:`tide.source.ocirepository`.
"""

from tide.source.oci.auth import (
    Challenge,
    CredentialsError,
    RegistryCredentials,
    parse_challenges,
    parse_docker_config,
)
from tide.source.oci.client import (
    RegistryAuthError,
    RegistryClient,
    RegistryError,
    RegistryNotFound,
    RegistryTimeout,
)
from tide.source.oci.layer import LayerError, extract_layer, select_layer
from tide.source.oci.manifest import Descriptor, Manifest
from tide.source.oci.pull import Pulled, PullFailed, pull
from tide.source.oci.refs import (
    InvalidReference,
    InvalidURL,
    NoMatchingTag,
    Reference,
    Repository,
    parse_url,
)

__all__ = [
    "Challenge",
    "CredentialsError",
    "Descriptor",
    "InvalidReference",
    "InvalidURL",
    "LayerError",
    "Manifest",
    "NoMatchingTag",
    "PullFailed",
    "Pulled",
    "Reference",
    "RegistryAuthError",
    "RegistryClient",
    "RegistryCredentials",
    "RegistryError",
    "RegistryNotFound",
    "RegistryTimeout",
    "Repository",
    "extract_layer",
    "parse_challenges",
    "parse_docker_config",
    "parse_url",
    "pull",
    "select_layer",
]
