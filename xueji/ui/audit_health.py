"""Tell every visitor, in Chinese, when no audit entry can be written (no key, or not the log's key): the app
then refuses to run rather than fail at the first write. The details (paths, fingerprints) go to the server log."""

from __future__ import annotations

import logging

import streamlit as st

from xueji.audit import key_problem
from xueji.db import session_scope

logger = logging.getLogger(__name__)


@st.cache_data(ttl=30, show_spinner=False)
def audit_problem(database_url: str) -> str | None:
    with session_scope() as session:
        problem = key_problem(session)
    if problem is None:
        return None
    logger.error("audit log cannot be written: %s", problem)
    return (
        "审计密钥缺失或与审计日志不符,为保护审计日志,系统暂停使用。请系统管理员在服务器上运行 "
        "`xueji audit verify` 查看原因:新部署运行 `xueji init` 生成密钥;已有部署从单独保存的备份中恢复密钥文件。"
    )
