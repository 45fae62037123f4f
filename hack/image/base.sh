#!/usr/bin/env bash
# Build Tide's base image from Debian packages (mmdebstrap) into buildah's storage; print its name.
#
# For machines that reach Debian's mirrors but no container registry: the image is a minimal
# Debian (variant "essential", no apt) with Python and the programs Tide runs — git, ssh, gpg —
# and nothing pulled from a registry. Its tag is a digest of this script, so an unchanged script
# reuses the image already in storage; TIDE_BASE_REFRESH=1 builds it again (new security fixes).
#
# Usage: hack/image/base.sh            (prints e.g. localhost/tide-base:bookworm-1a2b3c4d5e6f)
set -euo pipefail

suite=${TIDE_BASE_SUITE:-bookworm}
mirror=${TIDE_BASE_MIRROR:-http://deb.debian.org/debian}
security=${TIDE_BASE_SECURITY_MIRROR:-http://deb.debian.org/debian-security}
# python3-venv: the build stage makes the virtualenv with it (its pip is removed again).
# git + openssh-client: GitRepository and ImageUpdateAutomation clones and pushes over HTTPS/SSH.
# gpg + gpg-agent (gpgconf comes with it): signing automation commits. ca-certificates: HTTPS.
# libstdc++6: cel-expr-python's extension (CEL in Receivers and commit-status expressions).
packages=python3,python3-venv,libstdc++6,ca-certificates,git,openssh-client,gpg,gpg-agent

key=$(cat "$0" | sha256sum | cut -c1-12)
name="localhost/tide-base:$suite-$key"

if [ "${TIDE_BASE_REFRESH:-0}" != 1 ] && buildah inspect --type image "$name" >/dev/null 2>&1; then
    echo "$name"
    exit 0
fi

for tool in mmdebstrap buildah; do
    command -v "$tool" >/dev/null || {
        echo "tide: $tool not found; hack/install-test-deps.sh installs it" >&2
        exit 1
    }
done

work=$(mktemp -d "${TMPDIR:-/tmp}/tide-base-XXXXXX")
container=
cleanup() {
    [ -z "$container" ] || buildah rm "$container" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT

echo "tide: building $name from Debian $suite packages" >&2
# Docs, man pages, translations and apt's lists are dead weight in a controller image. So is
# perl (~45 MB), which git depends on only for scripts Tide never runs (send-email, svn, ...);
# clone, fetch, commit and push are git's own C programs.
mmdebstrap --quiet --variant=essential --include="$packages" \
    --dpkgopt='path-exclude=/usr/share/man/*' \
    --dpkgopt='path-exclude=/usr/share/doc/*' \
    --dpkgopt='path-include=/usr/share/doc/*/copyright' \
    --dpkgopt='path-exclude=/usr/share/info/*' \
    --dpkgopt='path-exclude=/usr/share/locale/*' \
    --dpkgopt='path-exclude=/usr/share/lintian/*' \
    --customize-hook='chroot "$1" dpkg --purge --force-depends $(chroot "$1" dpkg-query -W \
        -f "\${Package}\n" perl "perl-modules-*" "libperl5*" liberror-perl 2>/dev/null)' \
    --customize-hook='rm -rf "$1"/var/cache/* "$1"/var/lib/apt/lists/* "$1"/var/log/*' \
    "$suite" "$work/rootfs.tar" \
    "deb $mirror $suite main" "deb $mirror $suite-updates main" \
    "deb $security $suite-security main" >&2

container=$(buildah from scratch)
buildah add "$container" "$work/rootfs.tar" / >/dev/null
buildah config --env PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    --cmd /bin/sh --label "org.opencontainers.image.title=tide-base" \
    --label "org.opencontainers.image.base.name=debian:$suite" "$container"
buildah commit --quiet --rm "$container" "$name" >/dev/null
container=
echo "$name"
