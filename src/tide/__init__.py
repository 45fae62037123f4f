"""Tide: GitOps continuous delivery for Kubernetes that speaks Flux's APIs."""

__all__: list[str] = []
