"""The web server of xueji: Streamlit's app (streamlit_app.py) plus the sign-in page and cookie (xueji.web).

`streamlit run xueji_server.py` (what `xueji serve` runs) finds `app` here and serves it with uvicorn, with the
settings of .streamlit/config.toml; `uvicorn xueji_server:app` works as well."""

import streamlit as st
from starlette.middleware import Middleware
from streamlit.runtime.pages_manager import PagesManager

from xueji.audit.sealer import start_background
from xueji.config import SettingsError
from xueji.web.signin import SignInGate, routes

# The app's pages are all registered by st.navigation (streamlit_app.py). Streamlit learns that only when the first
# script run of the process calls it; until then a pages/ folder beside the script makes it answer the process's
# first visitor with its old multipage mode, whose "Page not found" (in English) then shows over the right page.
PagesManager.uses_pages_directory = False

app = st.App("streamlit_app.py", routes=routes(), middleware=[Middleware(SignInGate)])

# On PostgreSQL this server process also seals the audit log's new entries into their chains, every
# XUEJI_AUDIT_SEAL_SECONDS (xueji.audit.sealer; one sealer at a time across replicas). SQLite seals inline.
try:
    start_background()
except SettingsError:
    pass  # the pages say what is wrong with the settings
