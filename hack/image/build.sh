#!/usr/bin/env bash
# Build Tide's controller image with buildah (no daemon) and print its name and size.
#
# Usage: hack/image/build.sh IMAGE [BASE]
#   IMAGE  the name to tag, e.g. ghcr.io/tide-gitops/tide:0.1.0
#   BASE   the base image (e.g. docker.io/library/python:3.11-slim); empty: build one from
#          Debian packages with hack/image/base.sh, pulling nothing from a registry
# Extra `buildah bud` options come from BUILDAH_BUD_FLAGS (e.g. "--label x=y").
set -euo pipefail
cd "$(dirname "$0")/../.."

image=${1:?usage: hack/image/build.sh IMAGE [BASE]}
base=${2:-}

command -v buildah >/dev/null || {
    echo "tide: buildah not found; hack/install-test-deps.sh installs it" >&2
    exit 1
}
if [ -z "$base" ]; then
    base=$(bash hack/image/base.sh)
    pull=(--pull=false)
else
    pull=()
fi

# The kustomize build server (src/tide/kustomize/buildserver) is compiled here, with this
# machine's Go and the flags tide.kustomize.server_binary uses, and copied in: the image build
# pulls no Go toolchain. Go's build cache makes an unchanged rebuild take a second.
command -v go >/dev/null || {
    echo "tide: go not found; the image's kustomize build server is compiled from Go modules" >&2
    exit 1
}
mkdir -p build/image
(cd src/tide/kustomize/buildserver \
    && GOTOOLCHAIN=local GOWORK=off CGO_ENABLED=0 GOFLAGS=-buildvcs=false \
        go build -mod=readonly -trimpath -ldflags "-s -w" \
        -o ../../../../build/image/tide-kustomize-build .) >&2

# pip in the build trusts what this machine trusts (a TLS-inspecting proxy's CA, say).
ca=${SSL_CERT_FILE:-/etc/ssl/certs/ca-certificates.crt}
secrets=()
[ ! -r "$ca" ] || secrets=(--secret "id=ca,src=$ca")

# chroot isolation: RUN steps need no OCI runtime, user namespaces or daemon; --layers caches
# each step, so a rebuild after a code change reruns only the steps after `COPY src`.
# shellcheck disable=SC2086 # BUILDAH_BUD_FLAGS is a list of words
buildah bud --isolation chroot --layers "${pull[@]}" "${secrets[@]}" --build-arg "BASE=$base" \
    ${BUILDAH_BUD_FLAGS:-} --tag "$image" --file Containerfile . >&2

size=$(buildah images --format '{{.Size}}' --filter "reference=$image" | sed -n 1p)
echo "tide: built $image (base $base, $size)" >&2
echo "$image"
