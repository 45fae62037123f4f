"""Each Provider's outbox, built from the Provider and its Secrets, rebuilt when either changes.

A Provider is resolved (:func:`tide.notification.settings.resolve`) and given a Notifier and an
:class:`~tide.notification.delivery.Outbox` on first use, or as soon as it is created or
changed, so a bad one is reported before any event needs it: a Warning event on the Provider
names the field, and the Alerts using it are skipped while it stays broken. The Secrets a
Provider names are indexed, so a Secret's change rebuilds exactly the Providers that read it.
A replaced outbox sends what it had queued, then closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from tide.api import reasons
from tide.api.notification import Provider
from tide.kube.cache import WatchCache
from tide.notification._objects import ParsedObjects, object_key
from tide.notification.delivery import FailureHandler, Outbox, RetryPolicy
from tide.notification.providers.base import InvalidProvider, Notifier, ProviderSettings
from tide.notification.settings import ProviderConfigError, referenced_secrets, resolve

__all__ = ["Outboxes", "Warn"]

Warn = Callable[[Mapping[str, Any], str, str], Awaitable[None]]
"""Records a Warning event ``(object, reason, message)``."""


@dataclass
class _State:
    outbox: Outbox | None
    """None while the Provider cannot work (its Warning event was recorded)."""


@dataclass(kw_only=True, eq=False)
class Outboxes:
    """The outboxes of every Provider in use; it watches ``providers`` and ``secrets`` at once."""

    providers: WatchCache
    """Watch cache of Providers."""
    secrets: WatchCache
    """Watch cache of Secrets."""
    objects: ParsedObjects
    """The parsed-object cache shared with the dispatcher."""
    notifier_for: Callable[[ProviderSettings], Notifier]
    """Builds the provider type's sender."""
    retry: RetryPolicy
    """Retries and bound of each outbox."""
    on_failure: FailureHandler
    """Told of deliveries that failed for good."""
    warn: Warn
    """Records Warnings on Providers."""
    _states: dict[tuple[str, str], _State] = field(default_factory=dict, init=False)
    _secret_users: dict[tuple[str, str], set[str]] = field(default_factory=dict, init=False)
    _tasks: set[asyncio.Task[None]] = field(default_factory=set, init=False)

    def __post_init__(self) -> None:
        self.providers.add_handler(self._provider_changed)
        self.secrets.add_handler(self._secret_changed)

    def exists(self, namespace: str, name: str) -> bool:
        """Tell whether the Provider is in the cache."""
        return self.providers.get(namespace, name) is not None

    async def get(self, namespace: str, name: str) -> Outbox | None:
        """Return the Provider's outbox; None when it is missing, suspended or broken."""
        obj = self.providers.get(namespace, name)
        provider = self.objects.read(Provider, obj) if obj is not None else None
        if obj is None or provider is None or provider.spec.suspend:
            return None
        state = self._states.get((namespace, name))
        if state is None:
            state = await self._build(obj, provider)
        return state.outbox

    async def settle(self) -> None:
        """Wait until every outbox has sent (or given up on) what it holds."""
        for state in list(self._states.values()):
            if state.outbox is not None:
                await state.outbox.settle()

    async def close(self) -> None:
        """Stop rebuilding and close every outbox, dropping what is queued."""
        tasks, self._tasks = list(self._tasks), set()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        states, self._states = list(self._states.values()), {}
        for state in states:
            if state.outbox is not None:
                await state.outbox.close()

    async def _build(self, obj: Mapping[str, Any], provider: Provider) -> _State:
        key = object_key(provider)
        try:
            settings = resolve(provider, secret=self.secrets.get)
            notifier = self.notifier_for(settings)
        except (ProviderConfigError, InvalidProvider) as error:
            self._states[key] = state = _State(None)
            await self.warn(obj, getattr(error, "reason", reasons.INVALID_CONFIG), str(error))
            return state
        outbox = Outbox(
            settings.name,
            notifier,
            timeout=settings.timeout * 2 + 1,
            policy=self.retry,
            on_failure=self.on_failure,
        )
        self._states[key] = state = _State(outbox)
        return state

    async def _rebuild(self, namespace: str, name: str) -> None:
        """Resolve a Provider that changed, so bad config is reported before an event."""
        await self.providers.synced.wait()
        await self.secrets.synced.wait()
        if (namespace, name) not in self._states:
            await self.get(namespace, name)

    def _invalidate(self, namespace: str, name: str, *, rebuild: bool = True) -> None:
        state = self._states.pop((namespace, name), None)
        if state is not None and state.outbox is not None:
            state.outbox.retire()
        if rebuild:
            task = asyncio.create_task(self._rebuild(namespace, name), name=f"provider-{name}")
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    def _provider_changed(
        self, event: str, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        current = new or old
        if current is None:
            return
        namespace, name = current["metadata"].get("namespace") or "", current["metadata"]["name"]
        self._index_secrets(namespace, name, None if event == "DELETED" else new)
        if old is not None and new is not None and _spec_version(old) == _spec_version(new):
            return
        self._invalidate(namespace, name, rebuild=event != "DELETED")

    def _index_secrets(self, namespace: str, name: str, obj: dict[str, Any] | None) -> None:
        """Remember which Secrets the Provider reads, so their changes rebuild it."""
        for (secret_namespace, _), users in self._secret_users.items():
            if secret_namespace == namespace:
                users.discard(name)
        provider = self.objects.read(Provider, obj) if obj is not None else None
        for secret in referenced_secrets(provider) if provider is not None else ():
            self._secret_users.setdefault((namespace, secret), set()).add(name)

    def _secret_changed(
        self, event: str, old: dict[str, Any] | None, new: dict[str, Any] | None
    ) -> None:
        current = new or old
        unchanged = old is not None and new is not None and old.get("data") == new.get("data")
        if current is None or unchanged:
            return
        namespace = current["metadata"].get("namespace") or ""
        for name in sorted(self._secret_users.get((namespace, current["metadata"]["name"]), ())):
            self._invalidate(namespace, name)


def _spec_version(obj: Mapping[str, Any]) -> Any:
    return obj.get("spec"), (obj["metadata"].get("annotations") or {})
