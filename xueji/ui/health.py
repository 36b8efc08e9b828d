"""Tell the user, in Chinese, when the database cannot be used yet."""

from __future__ import annotations

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from xueji.db import current_revision, get_engine, head_revision


@st.cache_data(ttl=30, show_spinner=False)
def database_problem(database_url: str) -> str | None:
    """Return why the database at that URL cannot be used, or None when it is ready."""
    engine = get_engine()
    try:
        current = current_revision(engine)
    except SQLAlchemyError as exc:
        return f"无法连接数据库:{type(exc).__name__}。请检查 XUEJI_DATABASE_URL 和数据库服务。"
    if current is None:
        return "数据库尚未初始化。请运行 `xueji init`(正式部署用 `make serve`,演示用 `make run`)创建数据库。"
    if current != head_revision(engine):
        return f"数据库结构版本 {current} 不是最新版本。请运行 `xueji init` 升级(原有数据会保留)。"
    return None
