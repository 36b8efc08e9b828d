"""Where the current request comes from (channel and client address), for every audit entry it leads to.

The command line sets it around each command, the Streamlit app at the start of each script run; services do
not see it: `xueji.audit` reads it when it writes an entry.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address

WEB = "web"
CLI = "cli"
CHANNEL_LABELS = {WEB: "浏览器", CLI: "命令行"}
ADDRESS_LENGTH = 45  # the longest IPv6 text form


@dataclass(frozen=True)
class Origin:
    channel: str | None = None  # WEB or CLI; None when neither set it (a test, a script calling services)
    address: str | None = None


UNKNOWN = Origin()
_current: ContextVar[Origin | None] = ContextVar("xueji_audit_origin", default=None)
_fallback: Callable[[], Origin | None] | None = None


def set_origin(origin: Origin) -> None:
    """Set the origin for the rest of this thread's run (a Streamlit script run sets it at its start)."""
    _current.set(origin)


@contextmanager
def use(origin: Origin) -> Iterator[None]:
    """The origin for the duration of a block (a command-line command)."""
    token = _current.set(origin)
    try:
        yield
    finally:
        _current.reset(token)


def set_fallback(provider: Callable[[], Origin | None]) -> None:
    """Where to ask when nothing was set in this thread (a Streamlit fragment or callback run on its own)."""
    global _fallback
    _fallback = provider


def current() -> Origin:
    origin = _current.get()
    if origin is None and _fallback is not None:
        origin = _fallback()
    return origin or UNKNOWN


def _parse(text: str) -> IPv4Address | IPv6Address | None:
    text = text.strip().strip('"')
    if text.startswith("[") and "]" in text:  # [2001:db8::1]:443
        text = text[1 : text.index("]")]
    elif text.count(":") == 1:  # 203.0.113.7:51234
        text = text.split(":")[0]
    try:
        return ip_address(text)
    except ValueError:
        return None


def _trusted(address: IPv4Address | IPv6Address, trusted: Iterable[IPv4Network | IPv6Network]) -> bool:
    if isinstance(address, IPv6Address) and address.ipv4_mapped:
        address = address.ipv4_mapped
    return any(address.version == net.version and address in net for net in trusted)


def client_address(
    peer: str | None, forwarded_for: Iterable[str], trusted: Iterable[IPv4Network | IPv6Network]
) -> str | None:
    """The client's address: the TCP peer, unless the peer is a trusted proxy; then X-Forwarded-For read from
    the right, skipping trusted proxies, up to the first address a trusted proxy vouches for (a client can put
    anything at the left of the header; only what our proxies appended is believed)."""
    if peer is None:
        return None
    trusted = tuple(trusted)
    current = _parse(peer)
    if current is None:
        return peer[:ADDRESS_LENGTH]
    hops = [hop for value in forwarded_for for hop in value.split(",") if hop.strip()]
    while _trusted(current, trusted) and hops:
        hop = _parse(hops.pop())
        if hop is None:
            break  # garbage where a proxy should have written an address: keep the last one we can vouch for
        current = hop
    return str(current)[:ADDRESS_LENGTH]


def command_line_origin() -> Origin:
    """A command run on the server: its channel, and the ssh client's address when run over ssh."""
    ssh = (os.environ.get("SSH_CONNECTION") or os.environ.get("SSH_CLIENT") or "").split()
    address = _parse(ssh[0]) if ssh else None
    return Origin(CLI, str(address) if address else None)
