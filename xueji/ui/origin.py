"""The browser's address for the audit log: the connection's peer, or behind a trusted proxy (nginx) the address
that proxy forwarded in X-Forwarded-For; never a header from a peer that is not a trusted proxy.

Streamlit's server (uvicorn) already replaces the peer by the X-Forwarded-For client when the TCP peer is one of
FORWARDED_ALLOW_IPS (127.0.0.1 and ::1 unless set): nginx on the same machine. XUEJI_TRUSTED_PROXIES (the same
default) lets further proxies be believed the same way, e.g. nginx on another machine."""

from __future__ import annotations

import streamlit as st

from xueji.audit import context as audit_context
from xueji.audit.context import Origin
from xueji.config import get_settings


def _peer() -> str | None:
    """The TCP peer of this session's connection. st.context.ip_address hides loopback (it says None for
    127.0.0.1, which is exactly where a local nginx connects from), so ask the session's client first."""
    try:
        from streamlit.runtime import exists, get_instance
        from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

        ctx = get_script_run_ctx(suppress_warning=True)
        if ctx is not None and exists():
            client = get_instance().get_client(ctx.session_id)
            peer = getattr(getattr(client, "client_context", None), "remote_ip", None)
            if isinstance(peer, str) and peer:
                return peer
    except (ImportError, AttributeError, RuntimeError):
        pass
    peer = st.context.ip_address
    return peer if isinstance(peer, str) else None  # AppTest has no connection (its runtime is a stand-in)


def web_origin() -> Origin | None:
    """This script run's origin, or None outside a Streamlit script run."""
    from streamlit.runtime.scriptrunner_utils.script_run_context import get_script_run_ctx

    if get_script_run_ctx(suppress_warning=True) is None:
        return None
    forwarded = [v for v in st.context.headers.get_all("X-Forwarded-For") if isinstance(v, str)]
    return Origin(
        audit_context.WEB, audit_context.client_address(_peer(), forwarded, get_settings().trusted_proxies)
    )


def bind() -> None:
    """At the start of each script run: entries written during the run record the browser and its address; a
    fragment or callback run on its own asks web_origin() itself."""
    audit_context.set_fallback(web_origin)
    audit_context.set_origin(web_origin() or Origin(audit_context.WEB))
