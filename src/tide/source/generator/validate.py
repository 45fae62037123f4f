"""Check an ArtifactGenerator's spec before anything is fetched: what the CRD cannot express.

The API server already holds every field to its pattern; what is left is consistency between
fields — unique aliases and names, every ``@alias`` naming a declared source, every copy
operation well-formed. A failure here is a spec to fix, not something a retry can cure.
"""

from __future__ import annotations

from collections import Counter

from tide.api.generator import ArtifactGeneratorSpec
from tide.source.generator.copy import CopyError, CopyRule, parse_rule

__all__ = ["SpecError", "validate"]


class SpecError(ValueError):
    """The spec is inconsistent; the message names the field and what was expected."""


def _repeated(values: list[str]) -> list[str]:
    return sorted(value for value, count in Counter(values).items() if count > 1)


def validate(spec: ArtifactGeneratorSpec) -> dict[str, list[CopyRule]]:
    """Return each artifact's parsed copy rules, by artifact name.

    Raises:
        SpecError: repeated aliases or artifact names, an ``@alias`` that no source declares,
            or a malformed copy operation.
    """
    aliases = [source.alias for source in spec.sources]
    if repeated := _repeated(aliases):
        raise SpecError(f"spec.sources: alias must be unique, repeated: {', '.join(repeated)}")
    names = [artifact.name for artifact in spec.artifacts]
    if repeated := _repeated(names):
        raise SpecError(f"spec.artifacts: name must be unique, repeated: {', '.join(repeated)}")
    known = set(aliases)
    declared = ", ".join(sorted(known))
    plans: dict[str, list[CopyRule]] = {}
    for index, artifact in enumerate(spec.artifacts):
        where = f"spec.artifacts[{index}] ({artifact.name})"
        for field, value in (
            ("revision", artifact.revision),
            ("originRevision", artifact.origin_revision),
        ):
            if value is not None and value.removeprefix("@") not in known:
                raise SpecError(
                    f"{where}.{field}: '{value}' names no source; declared aliases: {declared}"
                )
        rules: list[CopyRule] = []
        for position, operation in enumerate(artifact.copy_):
            try:
                rule = parse_rule(operation)
            except CopyError as error:
                raise SpecError(f"{where}.copy[{position}]: {error}") from None
            if rule.alias not in known:
                raise SpecError(
                    f"{where}.copy[{position}].from: '@{rule.alias}' names no source; "
                    f"declared aliases: {declared}"
                )
            rules.append(rule)
        plans[artifact.name] = rules
    return plans
