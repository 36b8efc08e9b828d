"""Show refused actions as Chinese messages, never as tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from xueji.auth import PermissionDenied
from xueji.excel.registry_template import TemplateError
from xueji.services.accounts import AccountError
from xueji.services.assignments import AssignmentError
from xueji.services.cases import CaseError
from xueji.services.holidays import HolidayError
from xueji.services.home_teaching import HomeTeachingError
from xueji.services.home_visit_import import HomeVisitImportBlocked
from xueji.services.registry_checks import RegistryCheckError
from xueji.services.registry_import import ImportBlocked
from xueji.services.rollover import RolloverError
from xueji.services.status_changes import StatusChangeError
from xueji.services.student_record import StudentRecordError
from xueji.services.sweep_import import SweepImportBlocked
from xueji.services.sweeps import SweepError
from xueji.services.term_reports import TermReportError
from xueji.services.transfer_lookup import TransferLookupError
from xueji.services.visit_import import VisitImportBlocked
from xueji.services.visits import VisitError

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
    VisitError,
    VisitImportBlocked,
    SweepError,
    SweepImportBlocked,
    HomeTeachingError,
    HomeVisitImportBlocked,
)


@contextmanager
def shown_as_error() -> Iterator[None]:
    """Run a service call; show a refusal as st.error instead of raising."""
    try:
        yield
    except PermissionDenied as exc:
        st.error(f"无权操作:{exc}")
    except SHOWN as exc:
        st.error(str(exc))
