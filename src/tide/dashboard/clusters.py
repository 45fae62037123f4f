"""The clusters a dashboard serves: one per kubeconfig context, each as that context's user.

Each context gets its own clients, read model, access answers and actions, so an object's page
and its buttons go to the object's own API server with that context's credentials, and that
server's RBAC decides. A context whose API server does not answer is reported as unreachable
(with why) instead of holding the others back: it is asked ``/version`` with a short timeout
before its mirrors start, then again every little while, so it fills in once it answers and is
reported again when it stops answering. A context whose client cannot even be built (a
credential file missing, say) is reported the same way.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator, Sequence
from pathlib import Path

from tide.api import kinds
from tide.dashboard.access import Access
from tide.dashboard.actions import Actions
from tide.dashboard.model import Pulse, ReadModel
from tide.kube.client import KubeClient, kubeconfig_contexts
from tide.kube.errors import KubeError

__all__ = ["Cluster", "Fleet", "UnknownContext"]

log = logging.getLogger(__name__)

_PROBE_TIMEOUT = 5.0
"""Seconds an API server has to answer ``/version`` before its context counts as unreachable."""
_PROBE_EVERY = 30.0
"""Seconds between probes of a reachable context (one request each, whatever it holds)."""
_RETRY_EVERY = 10.0
"""Seconds between probes of an unreachable context."""


class UnknownContext(KubeError):
    """A context was asked for that the kubeconfig (or the dashboard) does not have."""


def _server_of(client: KubeClient) -> str:
    try:
        return str(client.kubeconfig()["clusters"][0]["cluster"].get("server", ""))
    except KubeError:  # a client not built from a kubeconfig: nothing to name
        return ""


class Cluster:
    """One context: its clients, read model, access answers and actions, and whether it answers.

    Args:
        name: the context's name.
        client: the context's client (its user's credentials).
        namespace: mirror only this namespace; every namespace by default.
        dry_run: the same credentials under the kustomize-controller's field manager, for the
            diff's dry runs; ``client`` by default.
        pulse: moved on by every change shown, shared by the contexts served.
    """

    def __init__(
        self,
        name: str,
        client: KubeClient,
        *,
        namespace: str | None = None,
        dry_run: KubeClient | None = None,
        pulse: Pulse | None = None,
    ) -> None:
        self.name = name
        self.client = client
        self.dry_run = dry_run or client
        self.access = Access(client)
        self.actions = Actions(client, self.access)
        self.model = ReadModel(client, namespace=namespace, pulse=pulse)
        self.server = _server_of(client)
        self.error = ""
        """Why the API server is not answering; empty while it answers."""
        self._task: asyncio.Task[None] | None = None

    async def start(self, *, wait: float = 3.0) -> None:
        """Ask the API server once; if it answers, start the mirrors (waiting up to ``wait``
        seconds for their lists, as :meth:`ReadModel.start`); keep asking in the background."""
        await self._probe()
        if not self.error:
            await self.model.start(wait=wait)
        self._task = asyncio.create_task(self._keep_probing())

    async def stop(self) -> None:
        """Stop probing and mirroring."""
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await self.model.stop()

    async def _keep_probing(self) -> None:
        while True:
            await asyncio.sleep(_RETRY_EVERY if self.error else _PROBE_EVERY)
            await self._probe()
            if not self.error and not self.model.started:
                await self.model.start(wait=0)

    async def _probe(self) -> None:
        try:
            await asyncio.wait_for(self.client.get_json("/version"), _PROBE_TIMEOUT)
            error = ""
        except TimeoutError:
            error = f"no answer within {_PROBE_TIMEOUT:g}s"
        except KubeError as failed:
            error = str(failed) or type(failed).__name__
        except ValueError:  # something answered, but not with an API server's JSON
            error = "the address answers, but not as a Kubernetes API server"
        if error:
            error = f"{self.server or 'the API server'}: {error}"
        if error == self.error:
            return
        if error:
            log.warning("context %s is unreachable: %s", self.name, error)
        else:
            log.info("context %s answers", self.name)
        self.error = error
        self.model.pulse.touch()


class Fleet:
    """The contexts a dashboard serves, in the kubeconfig's order; the first is the default.

    Args:
        clusters: the contexts that have a client.
        broken: per context that has none, why (shown as an unreachable context).
        owned: clients this fleet made and :meth:`close` closes.
        pulse: the clusters' shared pulse (the first one's by default).
    """

    def __init__(
        self,
        clusters: Sequence[Cluster],
        *,
        broken: dict[str, str] | None = None,
        owned: Sequence[KubeClient] = (),
        pulse: Pulse | None = None,
    ) -> None:
        self.clusters = {cluster.name: cluster for cluster in clusters}
        self.broken = dict(broken or {})
        self.pulse = pulse or (clusters[0].model.pulse if clusters else Pulse())
        self._owned = list(owned)

    @classmethod
    def of_client(
        cls,
        client: KubeClient,
        *,
        name: str = "default",
        namespace: str | None = None,
        dry_run: KubeClient | None = None,
    ) -> Fleet:
        """Return a fleet of one context served through ``client`` (closed by its owner)."""
        return cls([Cluster(name, client, namespace=namespace, dry_run=dry_run)])

    @classmethod
    def from_kubeconfig(
        cls,
        path: str | Path | None = None,
        *,
        contexts: Sequence[str] = (),
        namespace: str | None = None,
    ) -> Fleet:
        """Return a fleet of the kubeconfig's contexts (``contexts`` only, when given).

        The kubeconfig is found as :meth:`KubeClient.from_kubeconfig` finds it; in a cluster
        that is the Pod's ServiceAccount, one context. The current context comes first.

        Raises:
            UnknownContext: a context in ``contexts`` is not in the kubeconfig.
            KubeError: no kubeconfig is found, it cannot be read, or it has no contexts.
        """
        names, current = kubeconfig_contexts(path)
        if not names:
            raise KubeError("the kubeconfig has no contexts")
        missing = [name for name in contexts if name not in names]
        if missing:
            raise UnknownContext(
                f"no context {', '.join(map(repr, missing))} in the kubeconfig "
                f"(it has: {', '.join(names) or 'none'})"
            )
        chosen = list(dict.fromkeys(contexts)) if contexts else names
        if current in chosen:
            chosen.remove(current)
            chosen.insert(0, current)
        pulse = Pulse()
        clusters, broken, owned = [], {}, []
        for name in chosen:
            try:
                client = KubeClient.from_kubeconfig(path, context=name, field_manager="tide")
                owned.append(client)
                dry_run = KubeClient.from_kubeconfig(
                    path, context=name, field_manager=kinds.KUSTOMIZE_CONTROLLER
                )
                owned.append(dry_run)
            except KubeError as error:
                broken[name] = str(error)
                continue
            except OSError as error:  # a credential file missing or unreadable, a bad key
                broken[name] = f"cannot load the credentials of context {name!r}: {error}"
                continue
            clusters.append(
                Cluster(name, client, namespace=namespace, dry_run=dry_run, pulse=pulse)
            )
        return cls(clusters, broken=broken, owned=owned, pulse=pulse)

    @property
    def names(self) -> list[str]:
        """Every context served, reachable or not."""
        return [*self.clusters, *self.broken]

    @property
    def default(self) -> str:
        """The context a request naming none means (the current context)."""
        return self.names[0] if self.names else ""

    def __iter__(self) -> Iterator[Cluster]:
        return iter(self.clusters.values())

    def get(self, name: str | None) -> Cluster:
        """Return the context ``name`` (the default one when None or empty).

        Raises:
            UnknownContext: it is not served, or cannot be reached at all.
        """
        name = name or self.default
        if name in self.broken:
            raise UnknownContext(f"context {name!r} is unreachable: {self.broken[name]}")
        cluster = self.clusters.get(name)
        if cluster is None:
            raise UnknownContext(f"context {name!r} is not served by this dashboard")
        return cluster

    def error_of(self, name: str) -> str:
        """Why context ``name`` is unreachable; empty when it answers."""
        if name in self.broken:
            return self.broken[name]
        return self.clusters[name].error

    async def start(self, *, wait: float = 3.0) -> None:
        """Start every context at once (an unreachable one costs at most the probe timeout)."""
        await asyncio.gather(*(cluster.start(wait=wait) for cluster in self))

    async def stop(self) -> None:
        """Stop every context's probes and mirrors."""
        for cluster in self:
            await cluster.stop()

    async def close(self) -> None:
        """Close the clients this fleet made."""
        for client in self._owned:
            await client.close()
