#!/usr/bin/env bash
# Install the Debian packages Tide's test servers run, and the `git` account SSH clones log in as;
# also buildah and mmdebstrap, which build the controller image (`make image`) and its base.
#
# Idempotent: does nothing when all is present. The packages' own services are kept from starting
# (a test server starts its own daemon on a free loopback port), and any daemon the install started
# anyway is stopped again, so nothing is left listening.
set -euo pipefail

# openssh-client: ssh-keyscan, which `tide create secret git --url ssh://…` scans host keys with.
# chromium: the browser the dashboard tests drive through Playwright.
# buildah, mmdebstrap: `make image` builds the controller image without a Docker daemon.
packages=(openssh-server openssh-client docker-registry nats-server gnupg chromium buildah mmdebstrap)

missing=()
for package in "${packages[@]}"; do
    if ! dpkg -s "$package" 2>/dev/null | grep -q '^Status: install ok installed'; then
        missing+=("$package")
    fi
done
need_git_user=false
getent passwd git >/dev/null || need_git_user=true

if [ ${#missing[@]} -eq 0 ] && [ "$need_git_user" = false ]; then
    exit 0
fi

as_root=()
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
        as_root=(sudo -n)
    else
        todo=()
        [ ${#missing[@]} -eq 0 ] || todo+=("apt-get install ${missing[*]}")
        [ "$need_git_user" = false ] ||
            todo+=("useradd --system --create-home --home-dir /home/git --shell /bin/sh --password '*' git")
        joined=$(printf '%s; ' "${todo[@]}")
        echo "tide: the test servers need, as root: ${joined%; }" >&2
        exit 1
    fi
fi

if [ "$need_git_user" = true ]; then
    # A real account, as Git hosts have: sshd only logs in users that exist. Shell /bin/sh, as
    # sshd runs the test server's ForceCommand through it; password "*" is "no password", where
    # the default "!" marks the account locked and sshd (without PAM) refuses it.
    "${as_root[@]}" useradd --system --create-home --home-dir /home/git --shell /bin/sh \
        --password '*' git
    echo "tide: created system user git"
fi

if [ ${#missing[@]} -eq 0 ]; then
    exit 0
fi

listening() {
    ss -ltnpH 2>/dev/null | grep -oE 'pid=[0-9]+' | cut -d= -f2 | sort -u || true
}
before=$(listening)

policy=/usr/sbin/policy-rc.d
wrote_policy=false
if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\n# Written by tide hack/install-test-deps.sh for the install only.\nexit 101\n' |
        "${as_root[@]}" tee "$policy" >/dev/null
    "${as_root[@]}" chmod 0755 "$policy"
    wrote_policy=true
fi
cleanup() {
    if [ "$wrote_policy" = true ]; then
        "${as_root[@]}" rm -f "$policy"
    fi
}
trap cleanup EXIT

echo "tide: installing ${missing[*]}"
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 update -qq
"${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=300 install \
    -y -qq --no-install-recommends "${missing[@]}" >/dev/null

# Stop whatever the install started listening despite the policy (only what was not there before).
for pid in $(comm -13 <(echo "$before") <(listening)); do
    name=$(cat "/proc/$pid/comm" 2>/dev/null || true)
    case "$name" in
        sshd | docker-registry | registry | nats-server)
            echo "tide: stopping $name (pid $pid) that the install started"
            "${as_root[@]}" kill "$pid" 2>/dev/null || true
            ;;
    esac
done

# Nor start them at the next boot: the tests run their own daemons, a dev machine needs no port 22.
if [ -d /run/systemd/system ]; then
    for unit in ssh.service ssh.socket docker-registry.service nats-server.service; do
        "${as_root[@]}" systemctl disable --quiet "$unit" 2>/dev/null || true
    done
fi
