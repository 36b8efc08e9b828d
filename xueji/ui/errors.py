"""Show refused actions as Chinese messages, never as tracebacks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import streamlit as st

from xueji.auth import PermissionDenied
from xueji.excel.registry_template import TemplateError
from xueji.services.cases.handling import CaseError
from xueji.services.cases.visit_import import VisitImportBlocked
from xueji.services.cases.visits import VisitError
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
from xueji.services.sweeps.fieldwork import SweepError
from xueji.services.sweeps.sheet_import import SweepImportBlocked
from xueji.services.system.accounts import AccountError
from xueji.services.system.holidays import HolidayError

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
