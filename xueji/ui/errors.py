"""Show refused actions as Chinese messages, and anything unexpected as a Chinese message with a reference number
while its traceback goes to the server's log under that number: never a traceback in the browser."""

from __future__ import annotations

import logging
import secrets
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st
from streamlit import config as streamlit_config

from xueji.auth import PermissionDenied
from xueji.excel.registry_template import TemplateError
from xueji.rules.notify import NotifyError
from xueji.services.cases.handling import CaseError
from xueji.services.cases.ladder import LadderError
from xueji.services.cases.notices import NoticeError
from xueji.services.cases.visit_import import VisitImportBlocked
from xueji.services.cases.visits import VisitError
from xueji.services.common.text_bounds import TextTooLong
from xueji.services.comparisons.list_import import ListImportBlocked
from xueji.services.comparisons.match_review import MatchError
from xueji.services.comparisons.tasks import VerificationError
from xueji.services.home_teaching.records import HomeTeachingError
from xueji.services.home_teaching.visit_import import HomeVisitImportBlocked
from xueji.services.registry.assignments import AssignmentError
from xueji.services.registry.checks import RegistryCheckError
from xueji.services.registry.file_import import ImportBlocked
from xueji.services.registry.rollover import RolloverError
from xueji.services.registry.status_changes import StatusChangeError
from xueji.services.registry.student_record import StudentRecordError
from xueji.services.registry.term_reports import TermReportError
from xueji.services.registry.transfer_lookup import TransferLookupError
from xueji.services.reports.submission import ReportError
from xueji.services.setup.divisions import DivisionError
from xueji.services.setup.terms import TermError
from xueji.services.setup.workbook_import import SetupImportBlocked
from xueji.services.sweeps.fieldwork import SweepError
from xueji.services.sweeps.sheet_import import SweepImportBlocked
from xueji.services.system.accounts import AccountError
from xueji.services.system.holidays import HolidayError
from xueji.ui.text import md

SHOWN = (
    PermissionDenied,
    AccountError,
    AssignmentError,
    TemplateError,
    ImportBlocked,
    StatusChangeError,
    StudentRecordError,
    TransferLookupError,
    HolidayError,
    RolloverError,
    TermReportError,
    RegistryCheckError,
    CaseError,
    LadderError,
    NoticeError,
    ReportError,
    VisitError,
    VisitImportBlocked,
    SweepError,
    SweepImportBlocked,
    HomeTeachingError,
    HomeVisitImportBlocked,
    TextTooLong,
    DivisionError,
    TermError,
    SetupImportBlocked,
    ListImportBlocked,
    VerificationError,
    MatchError,
    NotifyError,
)


UNEXPECTED = "系统出错,本次操作没有完成。请稍后再试;如果再次出现,请把错误编号 {reference} 告诉系统管理员。"


def error_log() -> logging.Logger:
    """The log of unexpected errors: the server's standard error, beside Streamlit's own output."""
    log = logging.getLogger("xueji.errors")
    if not log.handlers:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.INFO)
        log.propagate = False
    return log


def log_unexpected(exc: Exception) -> str:
    """Log the exception with its traceback under a new reference number; return the number."""
    reference = secrets.token_hex(4).upper()
    error_log().error("错误编号 %s", reference, exc_info=exc)
    return reference


def report_unexpected(exc: Exception) -> str:
    """Log the exception with its traceback under a new reference number, show the user a Chinese message
    naming that number, and return it. Under AppTest the exception is raised again, so a test sees it."""
    reference = log_unexpected(exc)
    st.error(UNEXPECTED.format(reference=reference))
    if streamlit_config.get_option("global.appTest"):  # looked up on the module: AppTest patches it there
        raise exc
    return reference


@contextmanager
def shown_as_error() -> Iterator[None]:
    """Run a service call; show a refusal as st.error instead of raising, and anything unexpected as a
    message with a reference number (see report_unexpected)."""
    try:
        yield
    except PermissionDenied as exc:
        st.error(f"无权操作:{md(exc)}")
    except SHOWN as exc:
        st.error(md(exc))
    except Exception as exc:
        report_unexpected(exc)


@contextmanager
def unexpected_errors() -> Iterator[None]:
    """Around a whole page: whatever it raises (not Streamlit's own stop and rerun, which are not Exceptions)
    is logged and shown as a message with a reference number instead of a traceback."""
    try:
        yield
    except Exception as exc:
        report_unexpected(exc)
