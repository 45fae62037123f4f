"""Bad input: a precise Ready=False reason naming the file or object, a Warning event, a retry —
and what was applied before stays applied and in the inventory."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from pyrage import x25519

from tests import sops
from tests.integration.helpers import events_for, eventually
from tests.integration.kustomize.common import (
    create_kustomization,
    given_source,
    ready_condition,
    request_reconcile,
    wait_for,
)
from tide.kube import resources
from tide.kube.client import KubeClient
from tide.kustomize.setup import KUSTOMIZATION
from tide.runtime.manager import Manager
from tide.source.setup import GIT_REPOSITORY
from tide.testing import GitServer

pytestmark = pytest.mark.integration


def config_map(name: str, data: str = "color: blue") -> str:
    return f"apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: {name}\ndata:\n  {data}\n"


async def warned(kube: KubeClient, namespace: str, name: str, reason: str) -> dict[str, Any]:
    """The Warning event with ``reason`` about ``name`` (recorded just after the status write)."""

    async def probe() -> dict[str, Any] | None:
        for event in await events_for(kube, namespace, name):
            if event["type"] == "Warning" and event["reason"] == reason:
                return event
        return None

    return await eventually(probe, what=f"a Warning event {reason} for {name}")


async def applied_then_broken(
    kube: KubeClient, namespace: str, git: GitServer, broken: dict[str, str], reason: str
) -> tuple[dict[str, Any], dict[str, Any]]:
    """Apply a good folder, push ``broken`` files, return (good, failed) Kustomizations."""
    repo = f"bad-{namespace[-8:]}"
    git.create_repo(repo, {"plain/first.yaml": config_map("first")})
    await given_source(kube, namespace, git, repo)
    await create_kustomization(kube, namespace, "apps", {"path": "./plain"})
    good = await wait_for(kube, namespace, "apps", status="True")
    git.commit(repo, broken)
    await request_reconcile(kube, GIT_REPOSITORY, namespace, "fleet", "broken")
    failed = await wait_for(kube, namespace, "apps", status="False", reason=reason)
    await warned(kube, namespace, "apps", reason)
    assert failed["status"]["lastAppliedRevision"] == good["status"]["lastAppliedRevision"]
    assert await kube.get_or_none(resources.CONFIG_MAP, "first", namespace=namespace) is not None
    return good, failed


async def test_invalid_yaml_names_the_file(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    broken = {"plain/broken.yaml": "kind: ConfigMap\nmetadata: [unclosed\n"}
    good, failed = await applied_then_broken(kube, namespace, git_server, broken, "BuildFailed")
    assert "plain/broken.yaml" in ready_condition(failed)["message"]
    assert failed["status"]["inventory"] == good["status"]["inventory"]


async def test_an_unknown_kind_is_named_and_the_rest_is_still_applied(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    broken = {
        "plain/gizmo.yaml": "apiVersion: example.tide.dev/v1\nkind: Gizmo\nmetadata:\n  name: g1\n",
        "plain/second.yaml": config_map("second"),
    }
    _, failed = await applied_then_broken(
        kube, namespace, git_server, broken, "ReconciliationFailed"
    )
    message = ready_condition(failed)["message"]
    assert message.startswith(f"Gizmo/{namespace}/g1: no matches for kind 'Gizmo'"), message
    assert "CustomResourceDefinition" in message
    assert await kube.get_or_none(resources.CONFIG_MAP, "second", namespace=namespace)
    ids = {entry["id"] for entry in failed["status"]["inventory"]["entries"]}
    assert ids == {f"{namespace}_first__ConfigMap", f"{namespace}_second__ConfigMap"}


async def test_partial_apply_disabled_writes_nothing_of_a_refused_stage(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"aon-{namespace[-8:]}"
    git_server.create_repo(repo, {
        "plain/gizmo.yaml": "apiVersion: example.tide.dev/v1\nkind: Gizmo\nmetadata:\n  name: g1\n",
        "plain/second.yaml": config_map("second"),
    })  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await kube.create(KUSTOMIZATION, {
        "metadata": {"name": "apps", "namespace": namespace,
                     "annotations": {"tide.dev/partial-apply": "disabled"}},
        "spec": {"interval": "10m", "prune": True, "path": "./plain", "targetNamespace": namespace,
                 "sourceRef": {"kind": "GitRepository", "name": "fleet"}},
    })  # fmt: skip
    failed = await wait_for(kube, namespace, "apps", status="False", reason="ReconciliationFailed")
    assert ready_condition(failed)["message"].startswith(f"Gizmo/{namespace}/g1: no matches")
    assert await kube.get_or_none(resources.CONFIG_MAP, "second", namespace=namespace) is None


async def test_a_missing_substitution_secret_is_named_and_retried_at_retry_interval(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"subst-{namespace[-8:]}"
    git_server.create_repo(repo, {"plain/config.yaml": config_map("config", "color: ${color}")})
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "apps", {
        "path": "./plain", "retryInterval": "2s",
        "postBuild": {"substituteFrom": [{"kind": "Secret", "name": "vars"}]},
    })  # fmt: skip
    failed = await wait_for(kube, namespace, "apps", status="False", reason="BuildFailed")
    assert ready_condition(failed)["message"] == (
        f"substitute from 'Secret/{namespace}/vars' error: secret not found "
        "(postBuild.substituteFrom)"
    )
    await warned(kube, namespace, "apps", "BuildFailed")

    # No reconcile is requested: the retry interval alone brings the fix in.
    meta = {"name": "vars", "namespace": namespace}
    await kube.create(resources.SECRET, {"metadata": meta, "stringData": {"color": "red"}})
    await wait_for(kube, namespace, "apps", status="True", timeout=15)
    config = await kube.get(resources.CONFIG_MAP, "config", namespace=namespace)
    assert config["data"] == {"color": "red"}


async def test_a_sops_file_that_the_key_cannot_open_is_named(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    writer, stranger = x25519.Identity.generate(), x25519.Identity.generate()
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: s3cr3t\n"
    )
    repo = f"sops-{namespace[-8:]}"
    git_server.create_repo(repo, {"secrets/db.yaml": sops.encrypt(secret, str(writer.to_public()))})
    await given_source(kube, namespace, git_server, repo)

    async def keys(identity: x25519.Identity) -> dict[str, Any]:
        encoded = base64.b64encode(str(identity).encode()).decode()
        return {"metadata": {"name": "sops-age", "namespace": namespace},
                "data": {"identity.agekey": encoded}}  # fmt: skip

    await kube.create(resources.SECRET, await keys(stranger))
    await create_kustomization(kube, namespace, "secrets", {
        "path": "./secrets", "decryption": {"provider": "sops", "secretRef": {"name": "sops-age"}},
    })  # fmt: skip
    failed = await wait_for(kube, namespace, "secrets", status="False", reason="DecryptionFailed")
    message = ready_condition(failed)["message"]
    assert message.startswith("failed to decrypt secrets/db.yaml"), message
    assert str(stranger) not in message and str(writer) not in message
    await warned(kube, namespace, "secrets", "DecryptionFailed")
    assert await kube.get_or_none(resources.SECRET, "db", namespace=namespace) is None

    # With the right key the Secret is applied decrypted.
    right = await keys(writer)
    await kube.patch_merge(
        resources.SECRET, "sops-age", {"data": right["data"]}, namespace=namespace
    )
    await request_reconcile(kube, KUSTOMIZATION, namespace, "secrets", "right-key")
    await wait_for(kube, namespace, "secrets", status="True")
    db = await kube.get(resources.SECRET, "db", namespace=namespace)
    assert base64.b64decode(db["data"]["password"]) == b"s3cr3t"


async def test_a_dependency_cycle_is_named_by_each_member(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    repo = f"cycle-{namespace[-8:]}"
    git_server.create_repo(repo, {"plain/config.yaml": config_map("config")})
    await given_source(kube, namespace, git_server, repo)
    for name, other in (("a", "b"), ("b", "a")):
        await create_kustomization(
            kube, namespace, name, {"path": "./plain", "dependsOn": [{"name": other}]}
        )
    for name, other in (("a", "b"), ("b", "a")):
        cycle = (
            f"dependency cycle: '{namespace}/{name}' -> '{namespace}/{other}' -> "
            f"'{namespace}/{name}'"
        )

        async def names_the_cycle(name: str = name, cycle: str = cycle) -> bool:
            # The first of the two looks before the other exists ("not found"); the other's
            # arrival wakes it, and then it names the cycle.
            obj = await wait_for(kube, namespace, name, status="False", reason="DependencyNotReady")
            return ready_condition(obj)["message"] == cycle

        await eventually(names_the_cycle, timeout=60, what=f"{name} to name the cycle")
    assert await kube.get_or_none(resources.CONFIG_MAP, "config", namespace=namespace) is None


async def test_a_sops_secret_without_decryption_is_refused_and_nothing_is_applied(
    kube: KubeClient, namespace: str, git_server: GitServer, controllers: Manager
) -> None:
    writer = x25519.Identity.generate()
    secret = (
        "apiVersion: v1\nkind: Secret\nmetadata:\n  name: db\nstringData:\n  password: s3cr3t\n"
    )
    repo = f"nodecrypt-{namespace[-8:]}"
    git_server.create_repo(repo, {
        "secrets/db.yaml": sops.encrypt(secret, str(writer.to_public())),
        "secrets/config.yaml": config_map("config"),
    })  # fmt: skip
    await given_source(kube, namespace, git_server, repo)
    await create_kustomization(kube, namespace, "secrets", {"path": "./secrets"})

    failed = await wait_for(
        kube, namespace, "secrets", status="False", reason="ReconciliationFailed"
    )
    assert ready_condition(failed)["message"] == (
        f"Secret/{namespace}/db is SOPS-encrypted but spec.decryption is not set: configure "
        "decryption (provider: sops, with a secretRef holding the age key) to apply it"
    )
    event = await warned(kube, namespace, "secrets", "ReconciliationFailed")
    assert "ENC[" not in event["message"]
    assert await kube.get_or_none(resources.SECRET, "db", namespace=namespace) is None
    assert await kube.get_or_none(resources.CONFIG_MAP, "config", namespace=namespace) is None
    assert not (failed["status"].get("inventory") or {}).get("entries")

    # Decryption asked for but no key given: the object still fails, now as undecryptable.
    await kube.patch_merge(
        KUSTOMIZATION,
        "secrets",
        {"spec": {"decryption": {"provider": "sops"}}},
        namespace=namespace,
    )
    undecryptable = await wait_for(
        kube, namespace, "secrets", status="False", reason="DecryptionFailed"
    )
    message = ready_condition(undecryptable)["message"]
    assert message.startswith(f"failed to decrypt Secret/{namespace}/db"), message
    assert await kube.get_or_none(resources.SECRET, "db", namespace=namespace) is None
