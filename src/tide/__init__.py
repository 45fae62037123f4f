"""Tide: GitOps continuous delivery for Kubernetes that speaks Flux's APIs."""

__all__: list[str] = []

__version__ = "0.1.0"
"""Tide's release; packaging reads it from here, and each CRD carries it as a label."""
