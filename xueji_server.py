"""The web server of xueji: Streamlit's app (streamlit_app.py) plus the sign-in page and cookie (xueji.web).

`streamlit run xueji_server.py` (what `xueji serve` runs) finds `app` here and serves it with uvicorn, with the
settings of .streamlit/config.toml; `uvicorn xueji_server:app` works as well."""

import streamlit as st
from starlette.middleware import Middleware

from xueji.web.signin import SignInGate, routes

app = st.App("streamlit_app.py", routes=routes(), middleware=[Middleware(SignInGate)])
