"""Checkers for the public boundary: each returns the value in canonical form or raises one
:class:`~theory.errors.SDLInputError` naming the argument, what it got and what is allowed.

Used by ``theory`` (instances, activations, distributions, objectives, patterns), ``numerics``
configs, ``proofs_check.check`` and the CLI, so that the same input gets the same answer everywhere.
No torch, no sympy: cheap to import from a config module.

>>> positive_int("budget", 40)
40
>>> finite_float("lr", float("nan"), lo=0, lo_open=True)
Traceback (most recent call last):
...
theory.errors.SDLInputError: lr must be a finite number > 0, got nan
"""
from __future__ import annotations

import math
import numbers
import weakref
from typing import Iterable

import numpy as np

from theory.errors import SDLInputError

# Entries beyond this make L and L̃ (fourth-order in the parameters) overflow or lose every digit of
# float64; no instance or parameter of this toolkit needs them.
MAX_ABS = 1e12
MAX_SEED = 2**63 - 1


def got(value, limit: int = 60) -> str:
    """A short ``repr`` of what the caller passed (arrays summarised, long text cut)."""
    if isinstance(value, np.ndarray):
        return f"an array of shape {value.shape} and dtype {value.dtype}"
    try:
        text = repr(value)
    except Exception:  # noqa: BLE001 - a broken __repr__ must not hide the real message
        text = f"<{type(value).__name__}>"
    text = " ".join(text.split())  # messages stay one line
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _bounds_text(lo, hi, lo_open, hi_open) -> str:
    parts = []
    if lo is not None:
        parts.append(f"{'>' if lo_open else '>='} {lo:g}")
    if hi is not None:
        parts.append(f"{'<' if hi_open else '<='} {hi:g}")
    return " and ".join(parts)


def _is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def finite_float(name: str, value, lo=None, hi=None, *, lo_open: bool = False, hi_open: bool = False) -> float:
    """A finite real number in the given bounds (bools, strings and complex numbers refused)."""
    bounds = _bounds_text(lo, hi, lo_open, hi_open)
    allowed = "a finite number" + (f" {bounds}" if bounds else "")
    if not _is_real(value):
        raise SDLInputError(f"{name} must be {allowed}, got {got(value)}")
    try:
        x = float(value)
    except (OverflowError, ValueError):
        raise SDLInputError(f"{name} must be {allowed}, got {got(value)}") from None
    if not math.isfinite(x) or (lo is not None and (x <= lo if lo_open else x < lo)) or \
            (hi is not None and (x >= hi if hi_open else x > hi)):
        raise SDLInputError(f"{name} must be {allowed}, got {got(value)}")
    return x


def probability(name: str, value, *, open_low: bool = False, open_high: bool = False) -> float:
    return finite_float(name, value, 0.0, 1.0, lo_open=open_low, hi_open=open_high)


def integer(name: str, value, lo: int | None = None, hi: int | None = None) -> int:
    """An integer in ``[lo, hi]``; integral floats (``3.0``) pass, ``0.5``, bools and strings do not."""
    if lo in (0, 1):
        allowed = ("a positive integer" if lo == 1 else "a non-negative integer") + (f" <= {hi}" if hi is not None else "")
    else:
        bounds = _bounds_text(lo, hi, False, False)
        allowed = "an integer" + (f" {bounds}" if bounds else "")
    if isinstance(value, (numbers.Integral,)) and not isinstance(value, (bool, np.bool_)):
        k = int(value)
    elif _is_real(value) and math.isfinite(float(value)) and float(value) == int(value):
        k = int(value)
    else:
        raise SDLInputError(f"{name} must be {allowed}, got {got(value)}")
    if (lo is not None and k < lo) or (hi is not None and k > hi):
        raise SDLInputError(f"{name} must be {allowed}, got {got(value)}")
    return k


def positive_int(name: str, value, hi: int | None = None) -> int:
    return integer(name, value, 1, hi)


def nonneg_int(name: str, value, hi: int | None = None) -> int:
    return integer(name, value, 0, hi)


def seed(name: str, value) -> int:
    """A seed for ``numpy.random.default_rng`` and the searches: an integer in ``[0, 2^63 − 1]``."""
    return integer(name, value, 0, MAX_SEED)


def bool_flag(name: str, value) -> bool:
    """``True`` or ``False`` (numpy bools too); ``'no'``, ``0``, ``None`` are refused, not guessed."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    raise SDLInputError(f"{name} must be True or False, got {got(value)}")


def one_of(name: str, value, choices: Iterable):
    choices = tuple(choices)
    try:
        ok = any(value is c or (type(value) is type(c) and value == c) for c in choices)
    except (TypeError, ValueError):  # incomparable values (arrays)
        ok = False
    if not ok:
        raise SDLInputError(f"{name} must be one of {', '.join(map(repr, choices))}; got {got(value)}")
    return value


def instance_of(name: str, value, cls, what: str):
    if not isinstance(value, cls):
        raise SDLInputError(f"{name} must be {what}, got {got(value)}")
    return value


def _real_array(name: str, value, allowed: str) -> np.ndarray:
    if isinstance(value, (str, bytes, dict, set, frozenset)) or value is None:
        raise SDLInputError(f"{name} must be {allowed}, got {got(value)}")
    try:
        raw = np.asarray(value)
    except (TypeError, ValueError) as exc:  # ragged nested lists
        raise SDLInputError(f"{name} must be {allowed}, got {got(value)} ({exc})") from None
    if raw.dtype.kind == "c":
        raise SDLInputError(f"{name} must be {allowed} with real entries, got complex entries")
    if raw.dtype.kind == "b":
        raise SDLInputError(f"{name} must be {allowed} with real entries, got booleans")
    if raw.dtype.kind not in "iuf":
        # object arrays of Python numbers are fine; anything else (strings, None) is not
        try:
            if raw.dtype.kind == "O" and not all(_is_real(v) for v in raw.reshape(-1)):
                raise TypeError
            raw = raw.astype(float)
        except OverflowError:
            raise SDLInputError(f"{name} has entries beyond the float range; entries must satisfy |x| <= {MAX_ABS:g}") from None
        except (TypeError, ValueError):
            raise SDLInputError(f"{name} must be {allowed} with real entries, got {got(value)}") from None
    try:
        arr = np.array(raw, dtype=float)
    except OverflowError:  # Python ints beyond float range
        raise SDLInputError(f"{name} has entries beyond the float range; entries must satisfy |x| <= {MAX_ABS:g}") from None
    return arr


def _finite_bounded(name: str, arr: np.ndarray, max_abs: float) -> None:
    if arr.size and arr.dtype.kind == "f":
        lo, hi = float(arr.min()), float(arr.max())   # NaN and ±inf propagate: two passes, no temporaries
        if math.isfinite(lo) and math.isfinite(hi) and max(-lo, hi) <= max_abs:
            return
    if not np.all(np.isfinite(arr)):
        bad = np.argwhere(~np.isfinite(arr))[0].tolist()
        raise SDLInputError(f"{name} contains NaN or infinite entries (first at index {bad}); every entry must be finite")
    if arr.size and np.abs(arr).max() > max_abs:
        raise SDLInputError(f"{name} has an entry of magnitude {np.abs(arr).max():.3g}; entries must satisfy |x| <= {max_abs:g}")


# Large arrays this module has already checked and returned (read-only, owning their data, so their
# entries cannot change without deliberately flipping ``writeable``), with the bound they were checked
# against: passing one back (one inspection hands the same 16000 × 768 encoder to a dozen functions)
# costs a lookup instead of a copy and a scan (issue 9, paper-size inspect).
_CHECKED: "weakref.WeakValueDictionary[int, np.ndarray]" = weakref.WeakValueDictionary()
_CHECKED_BOUND: dict[int, float] = {}
_CHECKED_MIN_SIZE = 1 << 16


def frozen(a) -> bool:
    """An array whose entries cannot change behind a cache's back: read-only and owning its data (a
    read-only view of a writable array can still change through its base)."""
    return isinstance(a, np.ndarray) and not a.flags.writeable and a.flags.owndata


def _already_checked(value, max_abs: float) -> bool:
    return (frozen(value) and value.size >= _CHECKED_MIN_SIZE and _CHECKED.get(id(value)) is value
            and value.dtype == np.float64 and _CHECKED_BOUND.get(id(value), -1.0) <= max_abs)


def _remember(arr: np.ndarray, max_abs: float) -> None:
    if arr.size >= _CHECKED_MIN_SIZE and arr.flags.owndata:
        key = id(arr)
        _CHECKED[key] = arr
        _CHECKED_BOUND[key] = max_abs
        weakref.finalize(arr, _CHECKED_BOUND.pop, key, None)


def matrix(name: str, value, hint: str = "", *, shape: tuple | None = None, max_abs: float = MAX_ABS) -> np.ndarray:
    """A non-empty, finite, real 2-d float array (read-only copy); ``shape`` entries may be None."""
    allowed = "a non-empty 2-d array of real numbers" + (f" ({hint})" if hint else "")
    checked = _already_checked(value, max_abs)
    arr = value if checked else _real_array(name, value, allowed)
    if arr.ndim != 2 or 0 in arr.shape:
        raise SDLInputError(f"{name} must be {allowed}, got shape {arr.shape}")
    if shape is not None and any(s is not None and s != a for s, a in zip(shape, arr.shape)):
        want = " × ".join("?" if s is None else str(s) for s in shape)
        raise SDLInputError(f"{name} must have shape {want}" + (f" ({hint})" if hint else "") + f", got {arr.shape}")
    if checked:
        return arr
    _finite_bounded(name, arr, max_abs)
    arr.setflags(write=False)
    _remember(arr, max_abs)
    return arr


def vector(name: str, value, length: int | None = None, hint: str = "", *, scalar_ok: bool = False,
           max_abs: float = MAX_ABS) -> np.ndarray:
    """A finite real 1-d float array (of ``length`` entries when given); a scalar only with ``scalar_ok``."""
    allowed = ("a number or " if scalar_ok else "") + "a 1-d array of real numbers" + (
        f" of length {length}" if length is not None else "") + (f" ({hint})" if hint else "")
    arr = _real_array(name, value, allowed)
    if arr.ndim == 0 and scalar_ok:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size == 0 or (length is not None and arr.size != length):
        raise SDLInputError(f"{name} must be {allowed}, got shape {arr.shape}")
    _finite_bounded(name, arr, max_abs)
    arr.setflags(write=False)
    return arr


def bool_mask(name: str, value, hint: str = "") -> np.ndarray:
    """A 2-d boolean array. Integer or float 0/1 arrays are refused: they read equally well as indices."""
    allowed = "a 2-d boolean array" + (f" ({hint})" if hint else "")
    if not isinstance(value, np.ndarray) or value.dtype != bool:
        raise SDLInputError(f"{name} must be {allowed}; got {got(value)} (pass mask.astype(bool) for a 0/1 mask)")
    if value.ndim != 2:
        raise SDLInputError(f"{name} must be {allowed}, got shape {value.shape}")
    return value


def index(name: str, value, n: int) -> int:
    """A feature/neuron index in ``0..n-1``: an integer type (floats are refused, not truncated)."""
    if not isinstance(value, numbers.Integral) or isinstance(value, (bool, np.bool_)) or not 0 <= int(value) < n:
        raise SDLInputError(f"{name} must be an integer index, numbered 0..{n - 1}; got {got(value)}")
    return int(value)


def index_set(name: str, value, n: int) -> frozenset[int]:
    """A set (or list/tuple/range/1-d int array) of distinct indices in ``0..n-1``.

    Strings are refused (``'12'`` is not ``{1, 2}``), so are floats (``0.5`` is not ``0``) and bools.
    """
    if isinstance(value, (str, bytes, dict)) or not isinstance(value, (set, frozenset, list, tuple, range, np.ndarray)):
        raise SDLInputError(f"{name} must be a set of integer indices in 0..{n - 1}, got {got(value)}")
    if isinstance(value, np.ndarray) and value.ndim != 1:
        raise SDLInputError(f"{name} must be a set of integer indices in 0..{n - 1}, got {got(value)}")
    return frozenset(index(f"each element of {name}", v, n) for v in value)
