"""Flux's image-automation controller: commit the images ImagePolicies pick back to Git.

An ImageUpdateAutomation clones its GitRepository, rewrites the scalars marked with
``# {"$imagepolicy": "<namespace>:<policy>[:name|:tag|:digest]"}`` under ``spec.update.path``
(only those bytes), commits with a Go-template message and pushes, never forcing.
"""

from tide.image.automation.reconciler import AutomationPipeline
from tide.image.automation.setup import COMPONENT, IMAGE_POLICY, IMAGE_UPDATE_AUTOMATION, setup

__all__ = ["COMPONENT", "IMAGE_POLICY", "IMAGE_UPDATE_AUTOMATION", "AutomationPipeline", "setup"]
