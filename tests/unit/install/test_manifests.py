"""The pure install renderer: what each ``tide install`` flag puts in the manifests."""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from typer.testing import CliRunner

from tide.cli.main import app
from tide.install import InstallError, InstallOptions, render


def _by(documents: list[dict[str, Any]], kind: str) -> dict[str, dict[str, Any]]:
    return {d["metadata"]["name"]: d for d in documents if d["kind"] == kind}


def _container(documents: list[dict[str, Any]], name: str) -> dict[str, Any]:
    return _by(documents, "Deployment")[name]["spec"]["template"]["spec"]["containers"][0]


def test_the_default_install_has_flux_default_components_in_flux_system() -> None:
    documents = render(InstallOptions())
    assert documents[0]["kind"] == "Namespace"
    assert documents[0]["metadata"]["name"] == "flux-system"
    assert sorted(_by(documents, "Deployment")) == [
        "helm-controller",
        "kustomize-controller",
        "notification-controller",
        "source-controller",
    ]
    assert all(
        d["metadata"]["labels"]["app.kubernetes.io/part-of"] == "flux"
        and d["metadata"]["labels"]["app.kubernetes.io/instance"] == "flux-system"
        for d in documents
    )


def test_each_deployment_runs_its_controller_of_the_one_image_locked_down() -> None:
    container = _container(render(InstallOptions()), "source-controller")
    assert container["image"] == f"ghcr.io/tide-gitops/tide:{InstallOptions().version}"
    assert container["args"][:2] == ["controller", "--controllers=source"]
    assert "--enable-leader-election" in container["args"]
    assert (
        "--storage-adv-addr=source-controller.$(RUNTIME_NAMESPACE).svc.cluster.local."
        in container["args"]
    )
    assert container["livenessProbe"]["httpGet"] == {"path": "/healthz", "port": "healthz"}
    assert container["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": "healthz"}
    security = container["securityContext"]
    assert security["readOnlyRootFilesystem"] and security["runAsNonRoot"]
    assert security["seccompProfile"] == {"type": "RuntimeDefault"}
    env = {e["name"]: e for e in container["env"]}
    assert env["RUNTIME_NAMESPACE"]["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.namespace"


def test_components_and_extras_choose_the_deployments_and_their_service_accounts() -> None:
    options = InstallOptions(
        components=("source-controller", "kustomize-controller"),
        components_extra=("image-reflector-controller", "source-watcher"),
    )
    documents = render(options)
    names = ["source-controller", "kustomize-controller", "image-reflector-controller"]
    assert list(_by(documents, "Deployment")) == names
    assert list(_by(documents, "ServiceAccount")) == names
    assert (
        "--controllers=image-reflector"
        in _container(documents, "image-reflector-controller")["args"]
    )
    assert list(_by(documents, "Service")) == ["source-controller"]
    assert "allow-webhooks" not in _by(documents, "NetworkPolicy")
    reconciler = _by(documents, "ClusterRoleBinding")["cluster-reconciler-flux-system"]
    assert [s["name"] for s in reconciler["subjects"]] == ["kustomize-controller"]


def test_registry_version_pull_secret_and_cluster_domain_reach_the_deployments() -> None:
    documents = render(
        InstallOptions(
            registry="registry.example.com/mirror/",
            version="1.2.3",
            image_pull_secret="pull",
            cluster_domain="corp.internal",
        )
    )
    deployment = _by(documents, "Deployment")["source-controller"]
    pod = deployment["spec"]["template"]["spec"]
    assert pod["containers"][0]["image"] == "registry.example.com/mirror/tide:1.2.3"
    assert pod["imagePullSecrets"] == [{"name": "pull"}]
    assert any(a.endswith(".svc.corp.internal.") for a in pod["containers"][0]["args"])
    assert deployment["metadata"]["labels"]["app.kubernetes.io/version"] == "v1.2.3"


def test_every_other_controller_sends_its_events_to_the_notification_controller() -> None:
    documents = render(
        InstallOptions(
            components_extra=("image-reflector-controller", "image-automation-controller"),
            cluster_domain="corp.internal",
        )
    )
    url = "--events-addr=http://notification-controller.$(RUNTIME_NAMESPACE).svc.corp.internal./"
    for name in (
        "source-controller",
        "kustomize-controller",
        "helm-controller",
        "image-reflector-controller",
        "image-automation-controller",
    ):
        args = _container(documents, name)["args"]
        assert [a for a in args if a.startswith("--events-addr")] == [url], name
    assert "--events-addr=:9091" in _container(documents, "notification-controller")["args"]
    service = _by(documents, "Service")["notification-controller"]
    assert service["spec"]["ports"][0]["port"] == 80
    assert service["spec"]["ports"][0]["targetPort"] == "http"
    assert {"containerPort": 9091, "name": "http", "protocol": "TCP"} in _container(
        documents, "notification-controller"
    )["ports"]


def test_without_the_notification_controller_no_events_are_sent() -> None:
    documents = render(InstallOptions(components=("source-controller", "kustomize-controller")))
    for name in ("source-controller", "kustomize-controller"):
        assert not any(a.startswith("--events-addr") for a in _container(documents, name)["args"])


def test_watch_all_namespaces_reaches_every_controller() -> None:
    for watch in (True, False):
        documents = render(InstallOptions(watch_all_namespaces=watch))
        flag = f"--watch-all-namespaces={str(watch).lower()}"
        assert all(
            flag in d["spec"]["template"]["spec"]["containers"][0]["args"]
            for d in _by(documents, "Deployment").values()
        )


def test_without_network_policy_no_policies_are_rendered() -> None:
    assert _by(render(InstallOptions()), "NetworkPolicy").keys() == {
        "allow-egress",
        "allow-scraping",
        "allow-webhooks",
    }
    assert _by(render(InstallOptions(network_policy=False)), "NetworkPolicy") == {}


def test_view_and_edit_roles_aggregate_into_the_built_in_roles() -> None:
    roles = _by(render(InstallOptions(namespace="gitops")), "ClusterRole")
    assert sorted(roles) == ["crd-controller-gitops", "flux-edit-gitops", "flux-view-gitops"]
    view = roles["flux-view-gitops"]["metadata"]["labels"]
    assert view["rbac.authorization.k8s.io/aggregate-to-view"] == "true"
    edit = roles["flux-edit-gitops"]["metadata"]["labels"]
    assert "rbac.authorization.k8s.io/aggregate-to-view" not in edit
    assert edit["rbac.authorization.k8s.io/aggregate-to-edit"] == "true"


def test_the_dashboard_component_runs_tide_dashboard_read_only_behind_its_service() -> None:
    plain = render(InstallOptions(namespace="gitops"))
    documents = render(InstallOptions(namespace="gitops", components_extra=("dashboard",)))
    added = [d for d in documents if d not in plain]
    assert [(d["kind"], d["metadata"]["name"]) for d in added] == [
        ("ServiceAccount", "tide-dashboard"),
        ("ClusterRole", "tide-dashboard-gitops"),
        ("ClusterRoleBinding", "tide-dashboard-gitops"),
        ("ClusterRoleBinding", "tide-dashboard-view-gitops"),
        ("Service", "tide-dashboard"),
        ("Deployment", "tide-dashboard"),
    ]
    role = _by(documents, "ClusterRole")["tide-dashboard-gitops"]
    assert {verb for rule in role["rules"] for verb in rule["verbs"]} == {"get", "list", "watch"}
    assert {group for rule in role["rules"] for group in rule["apiGroups"]} >= {
        "kustomize.toolkit.fluxcd.io",
        "source.toolkit.fluxcd.io",
        "helm.toolkit.fluxcd.io",
    }
    assert all("" not in rule["apiGroups"] for rule in role["rules"])  # no Secrets
    view = _by(documents, "ClusterRoleBinding")["tide-dashboard-view-gitops"]
    assert view["roleRef"]["name"] == "view"
    for binding in ("tide-dashboard-gitops", "tide-dashboard-view-gitops"):
        subjects = _by(documents, "ClusterRoleBinding")[binding]["subjects"]
        assert subjects == [
            {"kind": "ServiceAccount", "name": "tide-dashboard", "namespace": "gitops"}
        ]
    service = _by(documents, "Service")["tide-dashboard"]["spec"]
    assert service["selector"] == {"app": "tide-dashboard"}
    assert service["ports"] == [
        {"name": "http", "port": 80, "protocol": "TCP", "targetPort": "http"}
    ]
    pod = _by(documents, "Deployment")["tide-dashboard"]["spec"]["template"]["spec"]
    assert pod["serviceAccountName"] == "tide-dashboard"
    container = _container(documents, "tide-dashboard")
    assert container["image"] == _container(documents, "source-controller")["image"]
    assert container["args"][:2] == ["dashboard", "--address=0.0.0.0:9080"]
    assert (
        "--allowed-host=tide-dashboard.$(RUNTIME_NAMESPACE).svc.cluster.local"
        in (container["args"])
    )
    assert "--allowed-host=localhost" in container["args"]
    assert container["ports"] == [{"containerPort": 9080, "name": "http", "protocol": "TCP"}]
    assert container["readinessProbe"]["httpGet"] == {"path": "/healthz", "port": "http"}
    controller = _container(documents, "source-controller")
    assert container["securityContext"] == controller["securityContext"]
    assert "tide-dashboard" not in _by(plain, "Deployment")


def test_no_controller_may_mint_tokens_unless_the_gate_is_asked_for() -> None:
    def token_rules(documents: list[dict[str, Any]]) -> list[str]:
        return [
            role["metadata"]["name"]
            for role in _by(documents, "ClusterRole").values()
            if any("serviceaccounts/token" in rule["resources"] for rule in role["rules"])
        ]

    assert token_rules(render(InstallOptions(namespace="gitops"))) == []
    gated = render(
        InstallOptions(namespace="gitops", feature_gates=frozenset({"ObjectLevelWorkloadIdentity"}))
    )
    assert token_rules(gated) == ["flux-object-identity-gitops"]
    binding = _by(gated, "ClusterRoleBinding")["flux-object-identity-gitops"]
    assert binding["roleRef"]["name"] == "flux-object-identity-gitops"
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "helm-controller", "namespace": "gitops"}
    ]
    args = _container(gated, "helm-controller")["args"]
    assert "--feature-gates=ObjectLevelWorkloadIdentity=true" in args


def test_install_feature_gates_flag_reaches_the_rendering_and_refuses_unknown_gates() -> None:
    result = CliRunner().invoke(
        app, ["install", "--export", "--feature-gates", "ObjectLevelWorkloadIdentity=true"]
    )
    assert result.exit_code == 0, result.output
    printed = list(yaml.safe_load_all(result.stdout))
    gates = frozenset({"ObjectLevelWorkloadIdentity"})
    assert printed == render(InstallOptions(feature_gates=gates))
    result = CliRunner().invoke(app, ["install", "--export", "--feature-gates", "Nope=true"])
    assert result.exit_code == 2
    words = " ".join(w for w in result.output.split() if w != "│")
    assert "unknown feature gate 'Nope'" in words


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (InstallOptions(components=("flux",)), "--components: unknown component flux"),
        (
            InstallOptions(components_extra=("helm-controller",)),
            "--components-extra: unknown component helm-controller",
        ),
        (InstallOptions(namespace="Flux_System"), "--namespace 'Flux_System'"),
        (
            InstallOptions(
                components=("kustomize-controller",), components_extra=("source-watcher",)
            ),
            "source-watcher",
        ),
        (
            InstallOptions(feature_gates=frozenset({"Nope"})),
            "--feature-gates: unknown feature gate Nope",
        ),
    ],
)
def test_bad_options_are_refused_naming_the_flag(options: InstallOptions, message: str) -> None:
    with pytest.raises(InstallError, match=message.replace("-", r"\-").replace("'", "'")):
        render(options)


def test_export_prints_exactly_the_rendering_as_yaml() -> None:
    result = CliRunner().invoke(
        app,
        [
            "install",
            "--export",
            "-n",
            "gitops",
            "--components-extra",
            "image-automation-controller",
        ],
    )
    assert result.exit_code == 0, result.output
    printed = list(yaml.safe_load_all(result.stdout))
    assert printed == render(
        InstallOptions(namespace="gitops", components_extra=("image-automation-controller",))
    )


def test_export_with_an_unknown_component_fails_with_one_line() -> None:
    result = CliRunner().invoke(app, ["install", "--export", "--components-extra", "nope"])
    assert result.exit_code == 1
    assert result.stdout == ""
