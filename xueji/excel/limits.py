"""What an uploaded workbook may be: the size of the file and of its XML, the sheets, rows and columns each
import can need, and the memory and time its reading may take. Read from the settings (XUEJI_IMPORT_*);
kept free of heavy imports, since the reading child process loads this module too."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from enum import Enum

MB = 1024 * 1024
# Excel's own ceiling is 64,000 cell formats a workbook: a styles part holding more was not made by Excel.
MAX_STYLES = 65_536


class TemplateError(ValueError):
    """The file cannot be read for this import at all (before any row): the message says why, in Chinese."""


class UnsafeWorkbook(TemplateError):
    """The file is not an xlsx we are willing to open (too large, malformed, hostile): the message says why."""


def dtd_refusal() -> str:
    return "文件含有 XML 实体或文档类型声明(可能是“XML 炸弹”),已拒绝"


class ImportKind(Enum):
    """Each upload of the product, with its name as users know it and which row cap applies."""

    REGISTRY = ("学籍导入", "registry")
    VISITS = ("家访导入", "records")
    HOME_VISITS = ("送教导入", "records")
    SWEEP = ("排查导入", "records")
    ATTENDANCE = ("点名册上传", "lists")
    HOLIDAYS = ("节假日安排导入", "lists")
    SETUP = ("上线设置导入", "records")  # a county's divisions, schools and terms: several sheets
    ACCOUNTS = ("账号导入", "records")  # a county's accounts and their classes: two sheets
    RESIDENT_LIST = ("户籍名单导入", "registry")  # a county's register: 60,000 children and more
    WELFARE_LIST = ("民政名单导入", "records")
    DISABLED_LIST = ("残联名单导入", "records")
    HOUSEHOLD_LIST = ("乡村振兴名单导入", "registry")  # every member of a county's households

    @property
    def label(self) -> str:
        return self.value[0]

    @property
    def cap(self) -> str:
        return self.value[1]


@dataclass(frozen=True)
class UploadPolicy:
    """The limits of every upload (settings XUEJI_IMPORT_*; see the README's 上传文件的限制)."""

    max_file_mb: int = 20  # the .xlsx as uploaded
    max_inflated_mb: int = 512  # all its parts inflated: a 200,000-row registry file is 250–400 MB
    max_columns: int = 200  # the registry template has 44 columns, the other imports fewer than 20
    rows_registry: int = 200_000  # 学籍导入: a county's file (rows counted from row 1, header included)
    rows_records: int = 20_000  # 家访导入, 送教导入, 排查导入: a school's or a village's sheet
    rows_lists: int = 2_000  # 点名册 (one class), 节假日安排 (a few years)
    max_sheets: int = 50
    max_shared_strings: int = 5_000_000  # about 25 distinct texts per row of a 200,000-row file
    memory_mb: int = 2048  # address space the reading child process may add to what it starts with
    seconds: int = 180  # wall-clock time the reading may take, checking included
    parallel: int = 2  # files read at the same time; more wait their turn

    def limits(self, kind: ImportKind) -> SheetLimits:
        rows = {"registry": self.rows_registry, "records": self.rows_records, "lists": self.rows_lists}[
            kind.cap
        ]
        return SheetLimits(
            label=kind.label,
            max_file_bytes=self.max_file_mb * MB,
            max_inflated_bytes=self.max_inflated_mb * MB,
            max_rows=rows,
            max_columns=self.max_columns,
            max_sheets=self.max_sheets,
            max_shared_strings=min(self.max_shared_strings, rows * self.max_columns),
            memory_bytes=self.memory_mb * MB,
            seconds=self.seconds,
        )


@dataclass(frozen=True)
class SheetLimits:
    """The limits of one import's file, as handed to the reading child process."""

    label: str  # the import's name, for messages
    max_file_bytes: int
    max_inflated_bytes: int
    max_rows: int
    max_columns: int
    max_sheets: int
    max_shared_strings: int
    memory_bytes: int
    seconds: int
    max_styles: int = MAX_STYLES

    def to_json(self) -> dict[str, object]:
        return asdict(self)
