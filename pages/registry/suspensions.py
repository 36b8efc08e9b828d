"""休学与请假 (placeholder, issue 23): suspensions ending and their extension (续休), leave with dates."""

import streamlit as st

from xueji.auth import Action
from xueji.ui.session import require_actor

require_actor(Action.STATUS_CHANGE_READ)
st.title("休学与请假")
st.info("建设中")
