"""The build server renders what ``kubectl kustomize`` renders, byte for byte, and fails alike.

Each case builds one folder of the repository's kustomize fixtures (or a small tree written
here) both ways: with ``kubectl kustomize --load-restrictor LoadRestrictionsNone`` of the same
kustomize release as the server, and with :class:`tide.kustomize.server.BuildServer`. A plain
folder gets the kustomization Flux generates, on disk for kubectl and in memory for the server.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio
import yaml

from tide.kustomize import server_binary
from tide.kustomize.build import generate_kustomization, kustomize_message
from tide.kustomize.paths import find_kustomization
from tide.kustomize.server import BuildServer, KustomizeFailed

pytestmark = pytest.mark.integration

TESTDATA = Path(__file__).parents[2] / "unit" / "kustomize" / "testdata"
FIXTURES = [
    "apps/production",
    "apps/base/podinfo",
    "plain",
    "plain/bundled",
    "with-component/app",
]
TREES = {
    "generators": {
        "kustomization.yaml": """\
namePrefix: team-
namespace: apps
commonLabels: {tier: web}
images: [{name: nginx, newTag: "1.27"}]
configMapGenerator:
  - {name: settings, literals: [LOG=debug, on=yes]}
secretGenerator:
  - {name: token, literals: [value=s3cr3t]}
resources: [deployment.yaml]
patches:
  - target: {kind: Deployment}
    patch: |
      - {op: add, path: /spec/replicas, value: 2}
""",
        "deployment.yaml": """\
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, annotations: {note: "<&>"}}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
        - name: web
          image: nginx
          envFrom: [{configMapRef: {name: settings}}]
""",
    },
    "sorted": {
        "kustomization.yaml": "resources: [all.yaml]\nsortOptions: {order: fifo}\n",
        "all.yaml": "apiVersion: v1\nkind: Service\nmetadata: {name: b}\n---\n"
        "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n",
    },
}


def _kustomize_version(kubectl: str) -> str | None:
    try:
        done = subprocess.run(
            [kubectl, "version", "--client", "-o", "json"],
            capture_output=True, text=True, timeout=30, check=True,
        )  # fmt: skip
    except (OSError, subprocess.SubprocessError):
        return None
    return json.loads(done.stdout).get("kustomizeVersion")


@pytest.fixture(scope="module")
def kubectl() -> str:
    """A kubectl carrying the server's kustomize release (the dev dependency's, if not PATH's)."""
    candidates = [shutil.which("kubectl"), str(Path(sys.executable).parent / "kubectl")]
    for candidate in candidates:
        if candidate and _kustomize_version(candidate) == server_binary.KUSTOMIZE_VERSION:
            return candidate
    pytest.fail(f"no kubectl with kustomize {server_binary.KUSTOMIZE_VERSION} in {candidates}")


@pytest_asyncio.fixture(scope="module")
async def build_server() -> AsyncIterator[BuildServer]:
    started = BuildServer(server_binary.ensure_server())
    yield started
    await started.close()


@pytest.fixture
def artifact(tmp_path: Path) -> Path:
    root = tmp_path / "artifact"
    shutil.copytree(TESTDATA, root)
    for name, files in TREES.items():
        for file, text in files.items():
            (root / name).mkdir(exist_ok=True)
            (root / name / file).write_text(text)
    return root


def _generated(directory: Path, root: Path) -> dict[str, str]:
    if find_kustomization(directory) is not None:
        return {}
    document = generate_kustomization(directory, root=root)
    return {str(directory / "kustomization.yaml"): yaml.safe_dump(document, sort_keys=False)}


def _kubectl_build(kubectl: str, directory: Path, files: dict[str, str]) -> tuple[int, str, str]:
    for name, text in files.items():
        Path(name).write_text(text)
    try:
        done = subprocess.run(
            [kubectl, "kustomize", "--load-restrictor", "LoadRestrictionsNone", str(directory)],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
    finally:
        for name in files:
            Path(name).unlink()
    return done.returncode, done.stdout, done.stderr


@pytest.mark.parametrize("path", [*FIXTURES, *TREES])
async def test_the_server_renders_the_same_bytes_as_kubectl_kustomize(
    kubectl: str, build_server: BuildServer, artifact: Path, path: str
) -> None:
    directory = artifact / path
    files = _generated(directory, artifact)
    code, expected, stderr = _kubectl_build(kubectl, directory, files)
    assert code == 0, stderr
    rendered = await build_server.render(directory, files=files, timeout=60)
    assert rendered == expected
    assert expected.strip()


@pytest.mark.parametrize(
    "kustomization",
    [
        "resources: [missing.yaml]\n",
        "resources: [../outside-nothing]\n",
        "patches: [{path: nope.yaml}]\nresources: []\n",
        "resources: [a.yaml, a.yaml]\n",
        "kind: [unclosed\n",
    ],
)
async def test_the_server_fails_with_kubectl_kustomizes_message(
    kubectl: str, build_server: BuildServer, artifact: Path, kustomization: str
) -> None:
    directory = artifact / "broken"
    directory.mkdir()
    (directory / "a.yaml").write_text("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n")
    (directory / "kustomization.yaml").write_text(kustomization)
    code, _, stderr = _kubectl_build(kubectl, directory, {})
    assert code != 0
    with pytest.raises(KustomizeFailed) as caught:
        await build_server.render(directory, timeout=60)
    ours = kustomize_message(str(caught.value), root=artifact)
    assert ours == kustomize_message(stderr, root=artifact)
    assert ours
