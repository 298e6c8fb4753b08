"""The Docker side: plans, emitted files, compose setups read back, and the engine."""

from __future__ import annotations

import sys
import types

#: The data image's default base (``--base-image``): in this light module, so that the CLI shows it
#: without importing the plan.
DEFAULT_BASE_IMAGE = "busybox:latest"


class _Deferred(types.ModuleType):
    """A stand-in for a module not imported yet: the first attribute read imports it (and from then
    on ``sys.modules`` holds the real one)."""

    def __getattr__(self, attr: str):
        import importlib

        if sys.modules.get(self.__name__) is self:
            del sys.modules[self.__name__]
        return getattr(importlib.import_module(self.__name__), attr)


def _defer_paramiko() -> None:
    """The Docker SDK imports paramiko (its ssh:// transport, with the cryptography bindings: about a
    quarter of the CPU a warm ``parity up`` takes) whatever the engine's address, and uses it only
    for an ``ssh://`` engine. It gets a stand-in until then; not installed, nothing changes (the SDK
    then says paramiko is missing, as it did)."""
    if "paramiko" in sys.modules:
        return
    import importlib.util

    if importlib.util.find_spec("paramiko") is not None:
        sys.modules["paramiko"] = _Deferred("paramiko")


_defer_paramiko()
