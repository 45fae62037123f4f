"""``test.enable`` runs the chart's Helm tests after a release and reports ``TestSuccess``.

The simulated node (kwok) keeps Pods Running for ever, so a Pod test hook never completes here:
it stands for a failing test (Helm gives up after ``test.timeout``). A ConfigMap hook, which
Helm judges ready as soon as it exists, stands for a passing one.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.integration.helm.common import (
    DEPLOYMENT_TEMPLATE,
    chart_spec,
    create_release,
    given_repository,
    wait_for,
)
from tests.integration.helpers import assert_kstatus, condition, eventually
from tide.helm.setup import HELM_RELEASE
from tide.kube.client import KubeClient
from tide.runtime.manager import Manager
from tide.testing import ChartRepository

pytestmark = pytest.mark.integration

PASSING = """\
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-check
  annotations:
    helm.sh/hook: test
    helm.sh/hook-delete-policy: before-hook-creation
data:
  checked: "yes"
"""
FAILING = """\
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-check
  annotations:
    helm.sh/hook: test
spec:
  restartPolicy: Never
  containers:
    - name: check
      image: busybox
      command: ["false"]
"""


@pytest.fixture
def tested_repo() -> Iterator[ChartRepository]:
    with ChartRepository() as repo:
        for name, hook in (("passing", PASSING), ("failing", FAILING)):
            templates = {"deployment.yaml": DEPLOYMENT_TEMPLATE, "tests/check.yaml": hook}
            repo.add_chart(name, "1.0.0", values={"replicas": 1}, templates=templates)
        yield repo


def with_tests(chart: str, **test: object) -> dict:
    return {"chart": chart_spec("1.0.0", chart=chart), "test": {"enable": True, **test}}


async def test_passing_tests_make_ready_tell_of_them(
    kube: KubeClient, namespace: str, tested_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, tested_repo)
    await create_release(kube, namespace, "app", with_tests("passing"))
    obj = await wait_for(kube, namespace, "app", status="True", reason="TestSucceeded")
    expected = (
        f"Helm test succeeded for release {namespace}/app.v1 with chart passing@1.0.0: "
        "1 test hook(s) completed successfully"
    )
    assert condition(obj, "Ready")["message"] == expected
    test_success = condition(obj, "TestSuccess")
    assert (test_success["status"], test_success["reason"]) == ("True", "TestSucceeded")
    assert condition(obj, "Released")["reason"] == "InstallSucceeded"
    hooks = obj["status"]["history"][0]["testHooks"]
    assert hooks["app-check"]["phase"] == "Succeeded"
    assert hooks["app-check"]["lastCompleted"]
    assert_kstatus(obj)


async def test_a_failing_test_fails_the_release_and_stalls_without_retries(
    kube: KubeClient, namespace: str, tested_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, tested_repo)
    await create_release(kube, namespace, "app", with_tests("failing", timeout="3s"))

    async def stalled() -> dict | None:
        obj = await kube.get(HELM_RELEASE, "app", namespace=namespace)
        found = condition(obj, "Stalled")
        return obj if found and found["reason"] == "RetriesExceeded" else None

    obj = await eventually(stalled, timeout=60, what="the release to stall")
    test_success = condition(obj, "TestSuccess")
    assert (test_success["status"], test_success["reason"]) == ("False", "TestFailed")
    assert "app-check" in test_success["message"]
    assert condition(obj, "Ready")["status"] == "False"
    assert obj["status"]["installFailures"] == 1


async def test_ignored_test_failures_leave_the_release_ready(
    kube: KubeClient, namespace: str, tested_repo: ChartRepository, controllers: Manager
) -> None:
    await given_repository(kube, namespace, tested_repo)
    await create_release(
        kube, namespace, "app", with_tests("failing", timeout="3s", ignoreFailures=True)
    )
    obj = await wait_for(kube, namespace, "app", status="True", reason="InstallSucceeded")
    test_success = condition(obj, "TestSuccess")
    assert (test_success["status"], test_success["reason"]) == ("False", "TestFailed")
