"""月度台账与考核 (placeholder, issue 23): per school and month, overdue or improper status changes and checks."""

import streamlit as st

from xueji.auth import Action
from xueji.ui.session import require_actor

require_actor(Action.OVERVIEW_READ)
st.title("月度台账与考核")
st.info("建设中")
