"""The test Git server is a real one: HTTP(S) with auth, SSH with keys, pushes, a clean stop."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tide.testing import GitServer, _sshd
from tide.testing._process import pid_alive

pytestmark = pytest.mark.integration

CONFIG_MAP = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: demo\n"


def git(
    *args: str, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the git client as a user's machine would, minus this machine's git settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("GIT_", "SSH_"))}
    clean |= {
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": "/dev/null",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "Pusher",
        "GIT_AUTHOR_EMAIL": "pusher@example.invalid",
        "GIT_COMMITTER_NAME": "Pusher",
        "GIT_COMMITTER_EMAIL": "pusher@example.invalid",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=clean | (env or {}), capture_output=True, text=True
    )


def with_credentials(url: str, user: str, password: str) -> str:
    scheme, rest = url.split("://", 1)
    return f"{scheme}://{user}:{password}@{rest}"


def ssh_env(folder: Path, private_key: str, known_hosts: str) -> dict[str, str]:
    """Write a key and known_hosts as a Flux secret would hold them; return GIT_SSH_COMMAND."""
    identity, pinned = folder / "identity", folder / "known_hosts"
    identity.write_text(private_key)
    identity.chmod(0o600)
    pinned.write_text(known_hosts)
    command = (
        f"ssh -F /dev/null -i {identity} -o IdentitiesOnly=yes -o BatchMode=yes"
        f" -o UserKnownHostsFile={pinned} -o StrictHostKeyChecking=yes"
    )
    return {"GIT_SSH_COMMAND": command}


def push_a_change(clone: Path, *, file: str = "pushed.txt") -> str:
    (clone / file).write_text("pushed\n")
    assert git("add", "-A", cwd=clone).returncode == 0
    assert git("commit", "-q", "-m", "push", cwd=clone).returncode == 0
    return git("rev-parse", "HEAD", cwd=clone).stdout.strip()


def refused(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
    except OSError:
        return True
    return False


@pytest.fixture
def basic_server() -> Iterator[GitServer]:
    server = GitServer(username="flux", password="s3cret").start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def ssh_server() -> Iterator[GitServer]:
    server = GitServer(ssh=True).start()
    try:
        yield server
    finally:
        server.stop()


def test_a_clone_over_http_with_basic_auth_gets_the_committed_files(
    basic_server: GitServer, tmp_path: Path
) -> None:
    sha = basic_server.create_repo("demo", {"deploy/cm.yaml": CONFIG_MAP})
    url = with_credentials(basic_server.http_url("demo"), "flux", "s3cret")
    cloned = git("clone", url, str(tmp_path / "demo"))
    assert cloned.returncode == 0, cloned.stderr
    assert (tmp_path / "demo" / "deploy" / "cm.yaml").read_text() == CONFIG_MAP
    assert git("rev-parse", "HEAD", cwd=tmp_path / "demo").stdout.strip() == sha


def test_a_wrong_password_is_answered_401_and_git_fails(
    basic_server: GitServer, tmp_path: Path
) -> None:
    basic_server.create_repo("demo", {"a.txt": "a"})
    url = with_credentials(basic_server.http_url("demo"), "flux", "wrong")
    cloned = git("clone", url, str(tmp_path / "demo"))
    assert cloned.returncode != 0
    assert "Authentication failed" in cloned.stderr
    answer = httpx.get(basic_server.http_url("demo") + "/info/refs?service=git-upload-pack")
    assert answer.status_code == 401
    assert answer.headers["WWW-Authenticate"] == 'Basic realm="tide"'


def test_a_bearer_token_in_an_extra_header_is_accepted(tmp_path: Path) -> None:
    server = GitServer(token="t0ken").start()
    try:
        server.create_repo("demo", {"a.txt": "a"})
        header = "http.extraHeader=Authorization: Bearer t0ken"
        cloned = git("-c", header, "clone", server.http_url("demo"), str(tmp_path / "ok"))
        assert cloned.returncode == 0, cloned.stderr
        wrong = "http.extraHeader=Authorization: Bearer other"
        refused_clone = git("-c", wrong, "clone", server.http_url("demo"), str(tmp_path / "no"))
        assert refused_clone.returncode != 0
    finally:
        server.stop()


def test_an_https_clone_works_only_when_trusting_the_servers_ca(tmp_path: Path) -> None:
    server = GitServer(tls=True).start()
    try:
        server.create_repo("demo", {"a.txt": "a"})
        url = server.http_url("demo")
        assert url.startswith("https://127.0.0.1:")
        assert server.ca_pem is not None
        ca = tmp_path / "ca.pem"
        ca.write_bytes(server.ca_pem)
        trusted = git("-c", f"http.sslCAInfo={ca}", "clone", url, str(tmp_path / "trusted"))
        assert trusted.returncode == 0, trusted.stderr
        untrusted = git("clone", url, str(tmp_path / "untrusted"))
        assert untrusted.returncode != 0
        assert "certificate" in untrusted.stderr
    finally:
        server.stop()


def test_a_push_over_http_moves_the_branch(basic_server: GitServer, tmp_path: Path) -> None:
    basic_server.create_repo("demo", {"a.txt": "a"})
    url = with_credentials(basic_server.http_url("demo"), "flux", "s3cret")
    clone = tmp_path / "demo"
    assert git("clone", url, str(clone)).returncode == 0
    pushed_sha = push_a_change(clone)
    pushed = git("push", "origin", "main", cwd=clone)
    assert pushed.returncode == 0, pushed.stderr
    assert basic_server.head("demo") == pushed_sha
    # The server's own helpers build on what was pushed.
    assert basic_server.commit("demo", {"b.txt": "b"}) != pushed_sha


def test_a_push_larger_than_the_post_buffer_round_trips(tmp_path: Path) -> None:
    # Past http.postBuffer (1 MiB) git streams the push with chunked encoding, and random bytes
    # contain CRLFs that must pass through the CGI response untouched.
    server = GitServer().start()
    try:
        server.create_repo("demo", {"a.txt": "a"})
        clone = tmp_path / "demo"
        assert git("clone", "-q", server.http_url("demo"), str(clone)).returncode == 0
        payload = os.urandom(3 * 1024 * 1024)
        (clone / "big.bin").write_bytes(payload)
        push_a_change(clone)
        pushed = git("push", "-q", "origin", "main", cwd=clone)
        assert pushed.returncode == 0, pushed.stderr
        again = tmp_path / "again"
        cloned = git("clone", "-q", server.http_url("demo"), str(again))
        assert cloned.returncode == 0, cloned.stderr
        assert (again / "big.bin").read_bytes() == payload
    finally:
        server.stop()


def test_clone_and_push_over_ssh_work_with_the_client_key(
    ssh_server: GitServer, tmp_path: Path
) -> None:
    ssh_server.create_repo("demo", {"a.txt": "a"})
    url = ssh_server.ssh_url("demo")
    assert url.startswith(f"ssh://{ssh_server.ssh_user}@127.0.0.1:")
    private_key, public_key = ssh_server.client_key()
    assert public_key.startswith("ssh-ed25519 AAAA")
    assert ssh_server.known_hosts.startswith("[127.0.0.1]:")
    env = ssh_env(tmp_path, private_key, ssh_server.known_hosts)
    clone = tmp_path / "demo"
    cloned = git("clone", url, str(clone), env=env)
    assert cloned.returncode == 0, cloned.stderr
    pushed_sha = push_a_change(clone)
    pushed = git("push", "origin", "main", cwd=clone, env=env)
    assert pushed.returncode == 0, pushed.stderr
    assert ssh_server.head("demo") == pushed_sha
    # HTTP and SSH serve the same repositories, and pushes over both mix.
    over_http = tmp_path / "over-http"
    assert git("clone", ssh_server.http_url("demo"), str(over_http)).returncode == 0
    push_a_change(over_http, file="http.txt")
    assert git("push", "origin", "main", cwd=over_http).returncode == 0
    assert git("pull", "-q", cwd=clone, env=env).returncode == 0
    second = push_a_change(clone, file="ssh.txt")
    assert git("push", "origin", "main", cwd=clone, env=env).returncode == 0
    assert ssh_server.head("demo") == second


def test_an_unknown_ssh_key_is_refused(ssh_server: GitServer, tmp_path: Path) -> None:
    ssh_server.create_repo("demo", {"a.txt": "a"})
    other = tmp_path / "other"
    minted = subprocess.run(
        ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(other)], capture_output=True
    )
    assert minted.returncode == 0
    env = ssh_env(tmp_path, other.read_text(), ssh_server.known_hosts)
    cloned = git("clone", ssh_server.ssh_url("demo"), str(tmp_path / "demo"), env=env)
    assert cloned.returncode != 0
    assert "Permission denied (publickey)" in cloned.stderr


def test_a_fetch_adds_to_the_request_count(basic_server: GitServer, tmp_path: Path) -> None:
    basic_server.create_repo("demo", {"a.txt": "a"})
    url = with_credentials(basic_server.http_url("demo"), "flux", "s3cret")
    clone = tmp_path / "demo"
    assert git("clone", url, str(clone)).returncode == 0
    before = basic_server.request_count
    assert before >= 2
    basic_server.commit("demo", {"a.txt": "changed"})
    assert git("fetch", "-q", cwd=clone).returncode == 0
    assert basic_server.request_count > before


def test_commit_tag_and_branch_helpers_shape_the_history(
    basic_server: GitServer, tmp_path: Path
) -> None:
    first = basic_server.create_repo("team/app", {"keep.txt": "k", "drop.txt": "d"})
    second = basic_server.commit("team/app", {"drop.txt": None, "new.txt": b"\x00binary"})
    assert basic_server.head("team/app") == second != first
    assert basic_server.tag("team/app", "v1.0.0", ref=first, annotated=True) == first
    assert basic_server.head("team/app", "v1.0.0") == first
    feature = basic_server.commit("team/app", {"f.txt": "f"}, branch="feature")
    assert basic_server.head("team/app", "feature") == feature
    url = with_credentials(basic_server.http_url("team/app"), "flux", "s3cret")
    clone = tmp_path / "app"
    assert git("clone", "-q", "--branch", "feature", url, str(clone)).returncode == 0
    assert sorted(p.name for p in clone.iterdir() if p.name != ".git") == [
        "f.txt",
        "keep.txt",
        "new.txt",
    ]
    tag_type = git("cat-file", "-t", "v1.0.0", cwd=clone).stdout.strip()
    assert tag_type == "tag"


def test_a_submodule_is_cloned_with_recurse_submodules(tmp_path: Path) -> None:
    server = GitServer().start()
    try:
        server.create_repo("lib", {"lib.yaml": "lib: true\n"})
        server.create_repo("app", {"app.yaml": "app: true\n"})
        server.add_submodule("app", "vendor/lib", "lib")
        clone = tmp_path / "app"
        cloned = git("clone", "-q", "--recurse-submodules", server.http_url("app"), str(clone))
        assert cloned.returncode == 0, cloned.stderr
        assert (clone / "vendor" / "lib" / "lib.yaml").read_text() == "lib: true\n"
    finally:
        server.stop()


def test_stop_leaves_no_process_and_no_listening_port(tmp_path: Path) -> None:
    began = time.monotonic()
    server = GitServer(tls=True, ssh=True).start()
    started = time.monotonic() - began
    server.create_repo("demo", {"a.txt": "a"})
    http_port = int(server.http_url("x").split(":")[2].split("/")[0])
    ssh_port = int(server.ssh_url("x").split(":")[2].split("/")[0])
    assert server._http is not None and server._sshd is not None
    assert server._sshd._process is not None
    sshd_pid = server._sshd._process.pid
    # A client mid-fetch: upload-pack has advertised its refs and waits for the client's wants.
    env = ssh_env(tmp_path, server.client_key()[0], server.known_hosts)
    command = [*env["GIT_SSH_COMMAND"].split(), "-p", str(ssh_port)]
    command += [f"{server.ssh_user}@127.0.0.1", "git-upload-pack '/demo.git'"]
    session = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        assert session.stdout is not None
        assert session.stdout.read(4)  # first pkt-line of the advertisement
        pids = [server._http.pid, sshd_pid, *_sshd.descendants(sshd_pid)]
        assert len(pids) > 2
        assert not refused(http_port)
        began = time.monotonic()
        server.stop()
        stopped = time.monotonic() - began
        assert session.wait(timeout=10) != 0
    finally:
        session.kill()
        session.wait()
    assert not [pid for pid in pids if pid_alive(pid)]
    assert refused(http_port)
    assert refused(ssh_port)
    assert started < 10 and stopped < 10


def test_a_protected_ref_refuses_pushes_until_allowed(
    ssh_server: GitServer, tmp_path: Path
) -> None:
    ssh_server.create_repo("guarded", {"a.txt": "a"})
    clone = tmp_path / "guarded"
    assert git("clone", ssh_server.http_url("guarded"), str(clone)).returncode == 0
    pushed_sha = push_a_change(clone)
    ssh_server.reject_pushes("guarded", ref="refs/heads/main", message="main is protected")
    refused_push = git("push", "origin", "main", cwd=clone)
    assert refused_push.returncode != 0
    assert "pre-receive hook declined" in refused_push.stderr
    assert "main is protected" in refused_push.stderr
    ssh_server.allow_pushes("guarded")
    pushed = git("push", "-o", "topic=images", "origin", "main", cwd=clone)
    assert pushed.returncode == 0, pushed.stderr
    assert ssh_server.push_options("guarded") == ["topic=images"]
    info = ssh_server.commit_info("guarded")
    assert info["sha"] == pushed_sha and info["author_name"] == "Pusher"
    assert info["message"] == "push" and info["signed"] == "no"
    assert ssh_server.read("guarded", "pushed.txt") == "pushed\n"
