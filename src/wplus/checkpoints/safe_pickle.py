"""A restricted unpickler for NVIDIA's network pickles that never runs code from the file.

NVIDIA's own loader rebuilds each network by exec'ing the Python source pickled inside
(`torch_utils.persistence`). Here every global the pickle names is looked up in an
allow-list; persistent networks and TF `Network` objects become inert stubs that only hold
their state (tensors, numpy arrays, init kwargs); anything else is refused with an error
naming the global, before it is called.
"""
from __future__ import annotations

import collections
import io
import pickle
from typing import Any

import numpy as np
import torch

from ..errors import WplusError


class UnsafePickleError(WplusError):
    pass


class PersistentStub:
    """Stand-in for a `torch_utils.persistence` object: class name and its `__dict__` state."""

    def __init__(self, meta: dict) -> None:
        self.class_name: str = meta.get("class_name", "?")
        self.state: dict = dict(meta.get("state") or {})  # module_src is dropped, never run

    def tensors(self, prefix: str = "") -> dict[str, torch.Tensor]:
        """Flatten `_parameters`, `_buffers` and `_modules` like `nn.Module.state_dict`."""
        out: dict[str, torch.Tensor] = {}
        for group in ("_parameters", "_buffers"):
            for name, value in (self.state.get(group) or {}).items():
                if value is not None:
                    out[prefix + name] = torch.as_tensor(value).detach()
        for name, child in (self.state.get("_modules") or {}).items():
            if isinstance(child, PersistentStub):
                out.update(child.tensors(f"{prefix}{name}."))
        return out

    def modules(self, prefix: str = "") -> dict[str, "PersistentStub"]:
        """All stubs below (and including) this one, by dotted path."""
        out = {prefix.rstrip("."): self}
        for name, child in (self.state.get("_modules") or {}).items():
            if isinstance(child, PersistentStub):
                out.update(child.modules(f"{prefix}{name}."))
        return out


class TFNetworkStub:
    """Stand-in for `dnnlib.tflib.network.Network`: keeps `variables` and `components`."""

    def __setstate__(self, state: dict) -> None:
        self.state = dict(state)

    def params(self, prefix: str = "") -> dict[str, np.ndarray]:
        out = {prefix + name: np.asarray(value) for name, value in self.state.get("variables", [])}
        for name, comp in (self.state.get("components") or {}).items():
            if isinstance(comp, TFNetworkStub):
                out.update(comp.params(f"{prefix}{name}/"))
        return out


    def named_vars(self) -> dict[str, np.ndarray]:
        """Variables named as NVIDIA's `Network.vars`: own ones, then `<component name>/<var>`
        (e.g. `dlatent_avg`, `G_mapping/Dense0/weight`, `G_synthesis/4x4/Const/const`)."""
        out = {name: np.asarray(value) for name, value in self.state.get("variables", [])}
        for comp in (self.state.get("components") or {}).values():
            if isinstance(comp, TFNetworkStub):
                out.update({f"{comp.state.get('name', '?')}/{k}": v for k, v in comp.named_vars().items()})
        return out

    def all_static_kwargs(self) -> dict:
        """`static_kwargs` of this network, completed by its components' (own ones win)."""
        out: dict = {}
        for comp in (self.state.get("components") or {}).values():
            if isinstance(comp, TFNetworkStub):
                out.update(comp.all_static_kwargs())
        out.update(self.state.get("static_kwargs") or {})
        return out


class EasyDictStub(dict):
    """`dnnlib.util.EasyDict` (a dict with attribute access) without importing dnnlib."""

    def __setstate__(self, state: dict) -> None:
        self.update(state or {})


def _load_storage(data: bytes) -> Any:
    return torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)


def _numpy_globals() -> dict[tuple[str, str], Any]:
    core = getattr(np, "_core", None) or np.core
    found = {("numpy", "ndarray"): np.ndarray, ("numpy", "dtype"): np.dtype}
    for mod in ("numpy.core.multiarray", "numpy._core.multiarray"):
        found[(mod, "_reconstruct")] = core.multiarray._reconstruct
        found[(mod, "scalar")] = core.multiarray.scalar
    return found


def _allowed() -> dict[tuple[str, str], Any]:
    allowed: dict[tuple[str, str], Any] = {
        ("torch_utils.persistence", "_reconstruct_persistent_obj"): PersistentStub,
        ("dnnlib.tflib.network", "Network"): TFNetworkStub,
        ("dnnlib.util", "EasyDict"): EasyDictStub,
        ("dnnlib", "EasyDict"): EasyDictStub,
        ("torch._utils", "_rebuild_tensor_v2"): torch._utils._rebuild_tensor_v2,
        ("torch._utils", "_rebuild_parameter"): torch._utils._rebuild_parameter,
        ("torch.storage", "_load_from_bytes"): _load_storage,
        ("collections", "OrderedDict"): collections.OrderedDict,
        ("torch", "device"): torch.device,
        ("torch", "Size"): torch.Size,
    }
    allowed.update(_numpy_globals())
    return allowed


_ALLOWED = _allowed()


class RestrictedUnpickler(pickle.Unpickler):
    """Resolves only allow-listed globals (plus numpy dtypes' scalar types and torch dtypes)."""

    def find_class(self, module: str, name: str) -> Any:
        if (module, name) in _ALLOWED:
            return _ALLOWED[(module, name)]
        if module == "torch" and isinstance(getattr(torch, name, None), torch.dtype):
            return getattr(torch, name)
        if module == "copyreg" and name == "_reconstructor":  # protocol < 2: cls is checked too
            return _safe_reconstructor
        raise UnsafePickleError(f"refused to load global '{module}.{name}': not on wplus' allow-list "
                                "of data types (the file may run code when unpickled)")

    def persistent_load(self, pid: Any) -> Any:
        raise UnsafePickleError("refused a persistent id in a plain pickle")


def _safe_reconstructor(cls: type, base: type, state: Any) -> Any:
    if cls not in (TFNetworkStub, EasyDictStub, collections.OrderedDict):
        raise UnsafePickleError(f"refused to rebuild {cls!r}")
    return base.__new__(cls) if base is object else base.__new__(cls, state)


def restricted_load(path: str, data: bytes | None = None) -> Any:
    """Unpickle a file with `RestrictedUnpickler`; one-line errors for anything wrong."""
    try:
        if data is None:
            with open(path, "rb") as f:
                return RestrictedUnpickler(f).load()
        return RestrictedUnpickler(io.BytesIO(data)).load()
    except UnsafePickleError as exc:
        raise UnsafePickleError(f"{path}: {exc}") from None
    except (pickle.UnpicklingError, EOFError, ValueError, TypeError, AttributeError, IndexError,
            RuntimeError, KeyError) as exc:
        raise WplusError(f"{path}: truncated or corrupt pickle ({type(exc).__name__}: "
                         f"{str(exc).splitlines()[0] if str(exc) else ''})") from None
