"""ArtifactGenerator: compose and split source artifacts into ExternalArtifacts.

The reconcile (:mod:`~tide.source.generator.reconciler`) reads the artifacts of the sources a
generator names, runs each output artifact's copy operations on them
(:mod:`~tide.source.generator.copy`, checked beforehand by
:mod:`~tide.source.generator.validate`), archives the result reproducibly into the source
controller's storage and publishes it as an ExternalArtifact
(:mod:`~tide.source.generator.external`). An artifact whose copied content did not change is
left exactly as it was, so its consumers are not reconciled.
"""

from tide.source.generator.copy import CopyError, CopyRule, apply_rules, parse_rule
from tide.source.generator.validate import SpecError, validate

__all__ = ["CopyError", "CopyRule", "SpecError", "apply_rules", "parse_rule", "validate"]
