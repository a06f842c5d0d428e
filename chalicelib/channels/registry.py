"""The one list of platforms: name → the module that implements it.

Adding a platform is its module (a `Platform` subclass exported as `PLATFORM`), one line here, and its
tests. Channel validation (`config.py`), the runtime's platform map, the text limits replies are cut to
(`actions.PLATFORM_TEXT_LIMITS`), the secrets a channel must name, and the delivery stage (each platform's
`outbound`: its client, token, budget, window and text counting) all read this registry.

Modules are imported on first use, so `import app` (a cold start) pays for none of them.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chalicelib.channels.base import Platform

MODULES: dict[str, str] = {
    "x": "chalicelib.channels.x",
    "facebook": "chalicelib.channels.facebook",
    "instagram": "chalicelib.channels.instagram",
    "whatsapp": "chalicelib.channels.whatsapp",
    "discourse": "chalicelib.channels.discourse",
    "telegram": "chalicelib.channels.telegram",
    "webhook": "chalicelib.channels.standard_webhooks",
}

_loaded: dict[str, Platform] = {}
_lock = threading.Lock()


def names() -> tuple[str, ...]:
    return tuple(MODULES)


def get(name: str) -> Platform:
    """The platform called `name`; KeyError when no module is registered under it."""
    found = _loaded.get(name)
    if found is not None:
        return found
    module_name = MODULES[name]
    with _lock:
        if name not in _loaded:
            platform: Platform = importlib.import_module(module_name).PLATFORM
            if platform.name != name:
                raise RuntimeError(f"{module_name} declares platform {platform.name!r}, registered as {name!r}")
            _loaded[name] = platform
        return _loaded[name]


def platforms() -> dict[str, Platform]:
    return {name: get(name) for name in MODULES}


class TextLimits(Mapping[str, int]):
    """Platform → longest public reply, read from the platform modules on first use."""

    def _limits(self) -> dict[str, int]:
        return {name: p.text_limit for name, p in platforms().items() if p.text_limit is not None}

    def __getitem__(self, name: str) -> int:
        return self._limits()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._limits())

    def __len__(self) -> int:
        return len(self._limits())

    def get(self, name: str, default: int | None = None) -> int | None:  # type: ignore[override]
        if name not in MODULES:
            return default
        limit = get(name).text_limit
        return default if limit is None else limit


TEXT_LIMITS = TextLimits()
