"""The one name -> object table behind every spectrakit registry.

Models, preprocessing steps, file formats, augmentations, explanation methods, OOD detectors
and command-line commands are each a :class:`Registry`: entries are added with the
:meth:`Registry.register` decorator, found with :meth:`Registry.lookup` (an unknown name
raises one clear error that lists the known names and suggests the closest one), iterated in
registration order, and may carry metadata (a model's family, a method's faithfulness).
"""

from __future__ import annotations

import difflib
import fnmatch
import importlib
from collections.abc import Callable, Iterable, Iterator, Mapping
from types import MappingProxyType
from typing import Any, Generic, TypeVar, overload

from spectrakit.core.errors import ConfigError, SpectraError

__all__ = ["Registry"]

T = TypeVar("T")
Obj = TypeVar("Obj")


def _default_key(obj: Any) -> str:
    return obj.__name__


class Registry(Mapping[str, T], Generic[T]):
    """A named table of registered objects (functions, classes or records).

    As a :class:`~collections.abc.Mapping` it behaves like a read-only dict keyed by the
    registered spelling (``reg[name]``, ``name in reg``, ``sorted(reg)``); :meth:`lookup` is
    the forgiving, user-facing access (aliases, optional case folding, one-line errors).

    Parameters
    ----------
    kind : str
        What an entry is, in the user's words (``"model"``, ``"file format"``); used in
        error messages: ``unknown model 'x'; known: a, b``.
    error : type of SpectraError, default=ConfigError
        Error class raised for unknown or conflicting names.
    key : callable, optional
        ``key(obj) -> str``: the name under which ``@register`` files an object given
        without a name (default: ``obj.__name__``).
    case_sensitive : bool, default=True
        When False, :meth:`lookup` also accepts a name in any letter case.
    aliases : mapping of str to str, optional
        Other spellings accepted by :meth:`lookup` (``{"grad-cam": "gradcam"}``).
    modules : iterable of str, optional
        Modules whose import registers the built-in entries; imported once, on the first
        lookup or iteration (a module that is not installed is skipped).
    check : callable, optional
        ``check(name, obj)`` run on registration; raises to refuse an entry.
    hint : str, optional
        Added to the fix of the unknown-name error (``"run 'spectrakit models'"``).

    Examples
    --------
    >>> colors = Registry("color")
    >>> @colors.register
    ... def red():
    ...     return "#f00"
    >>> colors.lookup("red")()
    '#f00'
    >>> colors.lookup("rde")
    Traceback (most recent call last):
    ...
    spectrakit.core.errors.ConfigError: unknown color 'rde'; known: red. Fix: did you mean 'red'?
    """

    def __init__(
        self,
        kind: str,
        *,
        error: type[SpectraError] = ConfigError,
        key: Callable[[Any], str] = _default_key,
        case_sensitive: bool = True,
        aliases: Mapping[str, str] | None = None,
        modules: Iterable[str] = (),
        check: Callable[[str, Any], None] | None = None,
        hint: str | None = None,
    ) -> None:
        self.kind = kind
        self.error = error
        self._key = key
        self._case_sensitive = case_sensitive
        self._aliases = {self._fold(a): t for a, t in (aliases or {}).items()}
        self._modules = tuple(modules)
        self._loaded = not self._modules
        self._check = check
        self._hint = hint
        self._entries: dict[str, T] = {}
        self._meta: dict[str, dict[str, Any]] = {}

    # ------------------------------------------------------------------ registration
    @overload
    def register(self, obj: Obj, /) -> Obj: ...

    @overload
    def register(
        self, name: str | None = None, /, *, replace: bool = False, **metadata: Any
    ) -> Callable[[Obj], Obj]: ...

    def register(self, target: Any = None, /, *, replace: bool = False, **metadata: Any) -> Any:
        """Register an object; usable as ``@reg.register`` or ``@reg.register("name", **meta)``.

        Parameters
        ----------
        target : object or str, optional
            The object itself (named by ``key``), or the name to file the decorated object
            under.
        replace : bool, default=False
            Allow replacing a different object registered under the same name.
        **metadata
            Stored with the entry, returned by :meth:`metadata`.

        Returns
        -------
        object or decorator
            The object unchanged, or a decorator that registers and returns it.
        """
        if target is None or isinstance(target, str):
            name = target

            def deco(obj: Obj) -> Obj:
                self.add(self._key(obj) if name is None else name, obj, replace=replace, **metadata)
                return obj

            return deco
        self.add(self._key(target), target, replace=replace, **metadata)
        return target

    def add(self, name: str, obj: T, *, replace: bool = False, **metadata: Any) -> T:
        """Register ``obj`` under ``name`` (the non-decorator form of :meth:`register`)."""
        if not isinstance(name, str) or not name:
            raise self.error(
                f"invalid {self.kind} name", expected="a non-empty string", got=repr(name)
            )
        known = self._entries.get(name)
        if known is not None and known is not obj and not replace:
            raise self.error(
                f"{self.kind} name {name!r} registered twice",
                expected=f"unique {self.kind} names",
                got=f"{_where(known)} and {_where(obj)}",
                fix=f"give the new {self.kind} another name",
            )
        if self._check is not None:
            self._check(name, obj)
        self._entries[name] = obj
        self._meta[name] = dict(metadata)
        return obj

    # ------------------------------------------------------------------ access
    def lookup(self, name: str) -> T:
        """The entry registered as ``name`` (or an alias); unknown names raise ``error``.

        Raises
        ------
        SpectraError
            Of the registry's ``error`` class: ``unknown KIND 'name'; known: ...``, with the
            closest known name suggested.
        """
        return self._entries[self.canonical(name)]

    def canonical(self, name: str) -> str:
        """The registered spelling of ``name`` (resolving aliases and letter case)."""
        self._load()
        text = str(name)
        if text in self._entries:
            return text
        folded = self._fold(text)
        target = self._aliases.get(folded)
        if target is not None and target in self._entries:
            return target
        if not self._case_sensitive:
            for known in self._entries:
                if known.casefold() == folded:
                    return known
        raise self._unknown(text)

    def registered(self, name: str) -> T | None:
        """The entry filed under exactly ``name``, or None, without importing ``modules``.

        For registration code that completes an entry in steps (a format's reader, then its
        writer) while the built-in modules are still being imported.
        """
        return self._entries.get(name)

    def metadata(self, name: str) -> Mapping[str, Any]:
        """Read-only metadata stored with entry ``name`` at registration."""
        return MappingProxyType(self._meta[self.canonical(name)])

    def names(self, pattern: str = "*") -> list[str]:
        """Sorted registered names matching a shell-style pattern (``"specbert*"``)."""
        self._load()
        return sorted(n for n in self._entries if fnmatch.fnmatchcase(n, pattern))

    # ------------------------------------------------------------------ Mapping protocol
    def __getitem__(self, name: str) -> T:
        self._load()
        return self._entries[name]

    def __iter__(self) -> Iterator[str]:
        self._load()
        return iter(list(self._entries))

    def __len__(self) -> int:
        self._load()
        return len(self._entries)

    def __contains__(self, name: object) -> bool:
        self._load()
        return name in self._entries

    def __repr__(self) -> str:
        return f"Registry({self.kind!r}, {len(self._entries)} entries)"

    # ------------------------------------------------------------------ helpers
    def _fold(self, name: str) -> str:
        return name if self._case_sensitive else name.casefold()

    def _load(self) -> None:
        if self._loaded:
            return
        self._loaded = True  # before importing: the modules register into this registry
        for module in self._modules:
            try:
                importlib.import_module(module)
            except ModuleNotFoundError as exc:
                if exc.name != module:
                    raise

    def _unknown(self, name: str) -> SpectraError:
        pool = list(self._entries) + list(self._aliases)
        if self._case_sensitive:
            close = difflib.get_close_matches(name, pool, n=1, cutoff=0.5)
        else:
            folded = {self._fold(p): p for p in pool}
            close = [folded[c] for c in difflib.get_close_matches(self._fold(name), folded, n=1)]
        fix = [f"did you mean {close[0]!r}?"] if close else []
        if self._hint:
            fix.append(self._hint)
        known = ", ".join(sorted(self._entries)) or "(none registered)"
        return self.error(
            f"unknown {self.kind} {name!r}; known: {known}", fix=" ".join(fix) or None
        )


def _where(obj: Any) -> str:
    module = getattr(obj, "__module__", None) or type(obj).__module__
    qual = getattr(obj, "__qualname__", None) or type(obj).__qualname__
    return f"{module}.{qual}"
