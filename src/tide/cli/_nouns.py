"""The nouns the CLI takes for each kind (``source git``, ``kustomization``, ``image policy``).

Flux's command tree names some kinds by a group and a short word (``flux get sources git``,
``flux suspend image update``) and the rest by their own name (``kustomization``,
``helmrelease``, ``alert-provider``). The table below says that much for the kinds Flux's CLI
knows; every other kind in :data:`tide.api.kinds.KINDS` gets its lower-case kind as its noun, so a
kind added to the registry is reachable from ``get``, ``suspend``, ``resume`` and ``reconcile``
without touching the CLI.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import typer

from tide.api.kinds import KINDS, KindInfo
from tide.inspect import requests
from tide.inspect.requests import UNRECONCILED

__all__ = ["GROUPS", "UNRECONCILED", "Noun", "find_noun", "nouns", "register_per_kind"]


@dataclass(frozen=True)
class Noun:
    """How the CLI names one kind."""

    info: KindInfo
    group: str | None
    """``source`` or ``image`` for kinds named in two words; None for the others."""
    word: str
    """The singular word (``git``, ``kustomization``)."""
    plural: str
    """What ``get`` takes (``git`` under ``sources``; ``kustomizations`` at the top)."""
    aliases: tuple[str, ...] = ()
    """Other spellings ``get`` takes (``ks``, ``hr``, the singular)."""

    @property
    def kind(self) -> str:
        """Return the kind's name, e.g. ``GitRepository``."""
        return self.info.kind

    @property
    def a_kind(self) -> str:
        """Return the kind with its article, for help texts ("an ImagePolicy")."""
        return f"{'an' if self.kind[0] in 'AEIOU' else 'a'} {self.kind}"

    @property
    def suspendable(self) -> bool:
        """Whether ``suspend`` applies (:func:`tide.inspect.requests.suspendable`)."""
        return requests.suspendable(self.info)

    @property
    def path(self) -> str:
        """Return the words a user types after the verb, e.g. ``source git``."""
        return f"{self.group} {self.word}" if self.group else self.word


GROUPS = {"source": "sources", "image": "images"}
"""Two-word groups: the singular word ``suspend`` takes and the plural ``get`` takes."""

_FLUX_NAMES: dict[str, tuple[str | None, str, str, tuple[str, ...]]] = {
    "GitRepository": ("source", "git", "git", ()),
    "HelmRepository": ("source", "helm", "helm", ()),
    "HelmChart": ("source", "chart", "chart", ()),
    "OCIRepository": ("source", "oci", "oci", ()),
    "Bucket": ("source", "bucket", "bucket", ()),
    "ExternalArtifact": ("source", "external", "external", ()),
    "Kustomization": (None, "kustomization", "kustomizations", ("ks", "kustomization")),
    "HelmRelease": (None, "helmrelease", "helmreleases", ("hr", "helmrelease")),
    "ImageRepository": ("image", "repository", "repository", ()),
    "ImagePolicy": ("image", "policy", "policy", ()),
    "ImageUpdateAutomation": ("image", "update", "update", ()),
    "Alert": (None, "alert", "alerts", ("alert",)),
    "Provider": (None, "alert-provider", "alert-providers", ("alert-provider",)),
    "Receiver": (None, "receiver", "receivers", ("receiver",)),
}


def _noun(info: KindInfo) -> Noun:
    known = _FLUX_NAMES.get(info.kind)
    if known is None:
        singular = info.kind.lower()
        return Noun(info, None, singular, info.plural, (singular, *info.short_names))
    group, word, plural, aliases = known
    return Noun(info, group, word, plural, aliases)


def nouns() -> tuple[Noun, ...]:
    """Return a noun for every kind Tide serves, in the registry's order."""
    return tuple(_noun(info) for info in KINDS)


def find_noun(kind: str) -> Noun:
    """Return the noun of ``kind`` (e.g. ``GitRepository``).

    Raises:
        KeyError: ``kind`` is not served by Tide.
    """
    for noun in nouns():
        if noun.kind == kind:
            return noun
    raise KeyError(kind)


def register_per_kind(
    app: typer.Typer,
    build: Callable[[Noun], Any],
    *,
    verb: str,
    help: Callable[[Noun], str],
    include: Callable[[Noun], bool] = lambda noun: True,
) -> None:
    """Give ``app`` one command per kind, under ``source``/``image`` where Flux groups them.

    Args:
        app: the verb's Typer app (``tide suspend``, ``tide export`` …).
        build: returns the command for one noun.
        verb: the verb's word for the groups' help (``Suspend`` → "Suspend sources.").
        help: the help line of one noun's command.
        include: which nouns get a command (all by default).
    """
    groups = {}
    for group, plural in GROUPS.items():
        groups[group] = typer.Typer(help=f"{verb} {plural}.", no_args_is_help=True)
        app.add_typer(groups[group], name=group, help=f"{verb} {plural}.")
    for noun in nouns():
        if include(noun):
            where = groups[noun.group] if noun.group else app
            command = build(noun)
            where.command(noun.word, help=help(noun))(command)
            for alias in noun.aliases:
                if alias != noun.word:
                    where.command(alias, hidden=True)(command)
