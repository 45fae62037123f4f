"""Path checks look at what the build reaches: one broken overlay in a monorepo fails only the
Kustomizations that use it, and an escaping path in a reached kustomization is still refused."""

from __future__ import annotations

import pytest

from tests.integration.kustomize.common import (
    create_kustomization,
    given_source,
    ready_condition,
    wait_for,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import GitServer

pytestmark = pytest.mark.integration


def config_map(name: str) -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  a: b\n"


MONOREPO = {
    "apps/web/kustomization.yaml": "resources:\n  - ../../base/web\n",
    "base/web/kustomization.yaml": "resources:\n  - web.yaml\n",
    "base/web/web.yaml": config_map("web"),
    # Other teams' folders, which the web build never reads:
    "teams/broken/kustomization.yaml": "resources: [unclosed\n",
    "teams/leaky/kustomization.yaml": (
        "configMapGenerator:\n  - name: leak\n    files:\n      - ../../../../../etc/passwd\n"
    ),
    "teams/leaky/other.yaml": config_map("other"),
}


async def test_a_broken_overlay_elsewhere_in_the_repository_does_not_fail_the_build(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"mono-{namespace[-8:]}"
    git_server.create_repo(repo, MONOREPO)
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "web", {"path": "./apps/web"})
    await create_kustomization(kube, namespace, "broken", {"path": "./teams/broken"})

    await wait_for(kube, namespace, "web", status="True")
    assert await kube.get_or_none(resources.CONFIG_MAP, "web", namespace=namespace)
    broken = await wait_for(kube, namespace, "broken", status="False", reason="BuildFailed")
    assert ready_condition(broken)["message"].startswith(
        "invalid kustomization teams/broken/kustomization.yaml:"
    )


async def test_an_escaping_path_in_a_reached_base_is_refused_naming_the_base(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"escape-{namespace[-8:]}"
    git_server.create_repo(repo, {
        **MONOREPO,
        "base/web/kustomization.yaml": (
            "resources:\n  - web.yaml\n"
            "secretGenerator:\n  - name: leak\n    files:\n"
            "      - token=../../../../../etc/passwd\n"
        ),
    })  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "web", {"path": "./apps/web"})

    failed = await wait_for(kube, namespace, "web", status="False", reason="BuildFailed")
    assert ready_condition(failed)["message"] == (
        "base/web/kustomization.yaml: path '../../../../../etc/passwd' (secretGenerator[].files) "
        "is outside the source artifact"
    )
    assert await kube.get_or_none(resources.CONFIG_MAP, "web", namespace=namespace) is None
    assert await kube.get_or_none(resources.SECRET, "leak", namespace=namespace) is None
