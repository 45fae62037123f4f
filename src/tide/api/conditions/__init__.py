"""Read and write kstatus conditions on an object's ``status`` mapping.

Reading (``getter``) and writing (``setter``) are kept apart. The setter holds the invariants that
``kubectl wait`` and kstatus readers depend on: the observed generation is stamped on every write,
``lastTransitionTime`` moves only when the status value changes, ``Reconciling`` and ``Stalled`` are
never true together and are removed rather than set false, and conditions keep a fixed order.
"""

from tide.api.conditions.getter import find, is_false, is_true, is_unknown, reason, status_of
from tide.api.conditions.setter import (
    ConditionStatus,
    delete,
    mark_false,
    mark_reconciling,
    mark_stalled,
    mark_true,
    mark_unknown,
    set_condition,
)

__all__ = [
    "ConditionStatus",
    "delete",
    "find",
    "is_false",
    "is_true",
    "is_unknown",
    "mark_false",
    "mark_reconciling",
    "mark_stalled",
    "mark_true",
    "mark_unknown",
    "reason",
    "set_condition",
    "status_of",
]
