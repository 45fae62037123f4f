"""The chart repository serves what Helm reads: a correct index, loadable charts, auth, TLS."""

from __future__ import annotations

import hashlib
import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import helm_python as helm
import httpx
import pytest
import yaml

from tide.testing import ChartRepository
from tide.testing._process import pid_alive

pytestmark = pytest.mark.integration


@pytest.fixture
def repository() -> Iterator[ChartRepository]:
    repo = ChartRepository().start()
    try:
        yield repo
    finally:
        repo.stop()


@pytest.fixture
def private_repository() -> Iterator[ChartRepository]:
    repo = ChartRepository(username="flux", password="s3cret").start()
    try:
        yield repo
    finally:
        repo.stop()


def _index(repo: ChartRepository, **kwargs: object) -> dict[str, object]:
    answer = httpx.get(f"{repo.url}/index.yaml", **kwargs)  # type: ignore[arg-type]
    answer.raise_for_status()
    return yaml.safe_load(answer.text)


def test_a_new_repository_serves_an_empty_index(repository: ChartRepository) -> None:
    index = _index(repository)

    assert index["apiVersion"] == "v1"
    assert not index["entries"]


def test_the_index_lists_added_charts_with_the_digests_of_their_archives(
    repository: ChartRepository,
) -> None:
    repository.add_chart("demo", "0.1.0")
    repository.add_chart("demo", "0.2.0", app_version="2.0.0")
    repository.add_chart("other", "1.0.0")

    entries = _index(repository)["entries"]

    assert sorted(entries) == ["demo", "other"]
    assert sorted(e["version"] for e in entries["demo"]) == ["0.1.0", "0.2.0"]
    for entry in [*entries["demo"], *entries["other"]]:
        assert entry["apiVersion"] == "v2"
        assert entry["created"]
        archive = httpx.get(f"{repository.url}/{entry['urls'][0]}")
        assert archive.status_code == 200
        assert entry["digest"] == hashlib.sha256(archive.content).hexdigest()
    newest = next(e for e in entries["demo"] if e["version"] == "0.2.0")
    assert newest["appVersion"] == "2.0.0"


def test_helm_pulls_a_chart_from_the_repository_and_renders_it(
    repository: ChartRepository, tmp_path: Path
) -> None:
    served = repository.add_chart(
        "demo",
        "1.2.3",
        values={"greeting": "bonjour"},
        templates={"secret.yaml": "kind: Secret\nstringData:\n  who: {{ .Values.greeting }}\n"},
    )

    helm.pull("demo", repo_url=repository.url, version="1.2.3", destination=tmp_path)

    pulled = tmp_path / "demo-1.2.3.tgz"
    assert pulled.read_bytes() == served.read_bytes()
    with helm.Chart.load(pulled) as chart:
        assert chart.metadata["apiVersion"] == "v2"
        assert chart.version == "1.2.3"
        rendered = chart.render({"greeting": "hallo"}, name="web", namespace="apps")
    assert rendered == {"demo/templates/secret.yaml": "kind: Secret\nstringData:\n  who: hallo\n"}


def test_the_default_chart_renders_one_configmap_from_its_values(
    repository: ChartRepository,
) -> None:
    repository.add_chart("demo", "0.1.0", values={"greeting": "hi"})

    archive = httpx.get(f"{repository.url}/demo-0.1.0.tgz").content
    with helm.Chart.load_archive(archive) as chart:
        assert chart.values == {"greeting": "hi"}
        rendered = chart.render(name="web", namespace="apps")

    configmap = yaml.safe_load(rendered["demo/templates/configmap.yaml"])
    assert configmap["kind"] == "ConfigMap"
    assert configmap["metadata"] == {"name": "web-demo", "namespace": "apps"}
    assert configmap["data"] == {"chartVersion": "0.1.0", "greeting": "hi"}


def test_a_removed_chart_leaves_the_index_and_the_folder(repository: ChartRepository) -> None:
    repository.add_chart("demo", "0.1.0")
    repository.add_chart("demo", "0.2.0")

    repository.remove_chart("demo", "0.1.0")

    versions = [e["version"] for e in _index(repository)["entries"]["demo"]]
    assert versions == ["0.2.0"]
    assert httpx.get(f"{repository.url}/demo-0.1.0.tgz").status_code == 404
    with pytest.raises(FileNotFoundError):
        repository.remove_chart("demo", "0.1.0")


def test_a_written_index_is_served_verbatim(repository: ChartRepository) -> None:
    repository.write_index("apiVersion: v1\nentries: [not, a, map\n")

    answer = httpx.get(f"{repository.url}/index.yaml")

    assert answer.text == "apiVersion: v1\nentries: [not, a, map\n"
    with pytest.raises(helm.HelmRepoError):
        helm.repo_index(repository.url)


def test_folders_are_not_listed(repository: ChartRepository) -> None:
    assert httpx.get(f"{repository.url}/").status_code == 404


def test_request_count_counts_every_request_refused_ones_too(
    private_repository: ChartRepository,
) -> None:
    assert private_repository.request_count == 0

    httpx.get(f"{private_repository.url}/index.yaml")
    httpx.get(f"{private_repository.url}/index.yaml", auth=("flux", "s3cret"))
    httpx.head(f"{private_repository.url}/missing.tgz", auth=("flux", "s3cret"))

    assert private_repository.request_count == 3


def test_basic_auth_refuses_requests_without_the_right_credentials(
    private_repository: ChartRepository,
) -> None:
    private_repository.add_chart("demo", "0.1.0")
    url = private_repository.url

    anonymous = httpx.get(f"{url}/index.yaml")
    wrong = httpx.get(f"{url}/demo-0.1.0.tgz", auth=("flux", "guess"))
    right = httpx.get(f"{url}/demo-0.1.0.tgz", auth=("flux", "s3cret"))

    assert anonymous.status_code == 401
    assert anonymous.headers["WWW-Authenticate"].startswith("Basic realm=")
    assert wrong.status_code == 401
    assert right.status_code == 200
    index = helm.repo_index(url, username="flux", password="s3cret")
    assert [e["version"] for e in index["entries"]["demo"]] == ["0.1.0"]
    with pytest.raises(helm.HelmRepoError):
        helm.repo_index(url)


def test_https_serves_clients_that_trust_the_ca_and_only_them() -> None:
    repo = ChartRepository(tls=True).start()
    try:
        repo.add_chart("demo", "0.1.0")
        assert repo.url.startswith("https://127.0.0.1:")
        assert repo.ca_pem is not None
        trusting = ssl.create_default_context(cadata=repo.ca_pem.decode())

        entries = _index(repo, verify=trusting)["entries"]

        assert [e["version"] for e in entries["demo"]] == ["0.1.0"]
        with pytest.raises(httpx.ConnectError, match="CERTIFICATE_VERIFY_FAILED"):
            httpx.get(f"{repo.url}/index.yaml")
    finally:
        repo.stop()


def test_stop_leaves_nothing_listening_and_nothing_on_disk() -> None:
    repo = ChartRepository().start()
    repo.add_chart("demo", "0.1.0")
    port = int(repo.url.rsplit(":", 1)[1])
    assert repo._process is not None
    pid = repo._process.pid
    folder = repo.charts_dir.parent

    repo.stop()

    assert not pid_alive(pid)
    assert not folder.exists()
    with pytest.raises(ConnectionRefusedError), socket.create_connection(("127.0.0.1", port), 1):
        pass
