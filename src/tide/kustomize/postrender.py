"""A Helm post-renderer program: kustomize steps and common metadata over rendered manifests.

Helm v4 post-renders through a plugin: a subprocess that reads the rendered manifests on stdin
and writes them back on stdout. The HelmRelease controller (:mod:`tide.helm.postrender`)
registers this module as that plugin's program, so ``spec.postRenderers`` and
``spec.commonMetadata`` run inside Helm's own install and upgrade — the manifest Helm stores,
applies, diffs and waits on is the post-rendered one, as under Flux.

Each step is a real kustomize build (:func:`tide.kustomize.build.build`) of one folder holding
the manifests, with the step's ``patches`` and ``images`` in the overlay; steps run in order,
each on the previous one's output. Common metadata is set on each object's ``metadata`` only,
after the last step, as a Kustomization's ``commonMetadata`` is.

Run as ``python -m tide.kustomize.postrender SPEC``; ``SPEC`` is a JSON file::

    {"steps": [{"patches": [{"patch": "...", "target": {...}}], "images": [...]}],
     "labels": {...}, "annotations": {...}}

A failure exits 1 with the message on stderr and, because Helm keeps a plugin's stderr out of
the error it reports, also in ``SPEC.error`` for the controller to quote.
"""

from __future__ import annotations

import json
import sys
import tempfile
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from tide import yamlio
from tide.kustomize.build import BuildError, BuildOptions, build

__all__ = ["ERROR_SUFFIX", "main", "render"]

ERROR_SUFFIX = ".error"
"""Appended to the spec file's path to name the file a failure's message is written to."""

_MANIFESTS = "manifests.yaml"


def render(manifests: str, spec: Mapping[str, Any]) -> str:
    """Run the spec's kustomize steps over ``manifests``, then add its labels and annotations.

    Raises:
        BuildError: kustomize refused a step (a patch that does not apply, an object twice).
    """
    objects = [doc for doc in yamlio.load_all(manifests) if isinstance(doc, dict)]
    steps: Sequence[Mapping[str, Any]] = spec.get("steps") or []
    labels, annotations = spec.get("labels") or {}, spec.get("annotations") or {}
    if not steps and (labels or annotations):
        steps = [{}]
    for number, step in enumerate(steps, start=1):
        last = number == len(steps)
        options = BuildOptions(
            patches=step.get("patches") or (),
            images=step.get("images") or (),
            common_labels=labels if last else {},
            common_annotations=annotations if last else {},
        )
        with tempfile.TemporaryDirectory(prefix="tide-postrender-") as scratch:
            root = Path(scratch)
            (root / _MANIFESTS).write_text("".join(f"---\n{yamlio.dump(o)}" for o in objects))
            try:
                objects = build(root, options)
            except BuildError as error:
                where = f"post-renderer {number}" if len(steps) > 1 else "post-renderer"
                raise BuildError(f"{where}: {error}") from error
    return "".join(f"---\n{yamlio.dump(o)}" for o in objects)


def main(argv: Sequence[str] | None = None) -> int:
    """Read manifests on stdin, write them post-rendered on stdout; 1 on failure."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1:
        print("usage: python -m tide.kustomize.postrender SPEC", file=sys.stderr)
        return 2
    spec_file = Path(args[0])
    try:
        output = render(sys.stdin.read(), json.loads(spec_file.read_text()))
    except (BuildError, OSError, ValueError, yamlio.YAMLError) as error:
        message = str(error)
        print(message, file=sys.stderr)
        Path(f"{spec_file}{ERROR_SUFFIX}").write_text(message)
        return 1
    sys.stdout.write(output)
    return 0


if __name__ == "__main__":
    sys.exit(main())
