"""The audit chain's key: 32 random bytes kept outside the database, in a file or in XUEJI_AUDIT_KEY.

Only `xueji init` and `xueji demo` create the key file (mode 600), and only while the log holds no entry signed
with a key: a lost key is never silently replaced. Everything else refuses to write without it.
"""

from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from xueji.config import get_settings

KEY_BYTES = 32


class AuditKeyError(Exception):
    """The audit key is missing, unreadable, malformed or too widely readable; the message says what to do."""


@dataclass(frozen=True)
class AuditKey:
    secret: bytes
    key_id: str  # a fingerprint stored with each entry: which key signed it, without revealing the key
    source: str  # where it came from, for messages

    def __repr__(self) -> str:  # never print the secret
        return f"AuditKey(key_id={self.key_id!r}, source={self.source!r})"


def _key(text: str, source: str) -> AuditKey:
    try:
        secret = bytes.fromhex(text.strip())
    except ValueError:
        secret = b""
    if len(secret) < KEY_BYTES:
        raise AuditKeyError(f"{source} 中的审计密钥格式不对:应为至少 64 个十六进制字符(32 字节随机数)")
    key_id = hashlib.sha256(b"xueji audit key id\0" + secret).hexdigest()[:16]
    return AuditKey(secret, key_id, source)


_cache: dict[tuple, AuditKey] = {}


def key_file() -> Path:
    return get_settings().audit_key_file


def load_key() -> AuditKey | None:
    """The configured key (XUEJI_AUDIT_KEY, else the key file), or None when there is none."""
    settings = get_settings()
    if settings.audit_key:
        return _key(settings.audit_key, "环境变量 XUEJI_AUDIT_KEY")
    path = settings.audit_key_file
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    if stat.st_mode & 0o077:
        raise AuditKeyError(f"审计密钥文件 {path} 的权限过宽(其他账号可读):请运行 chmod 600 {path}")
    cached = (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)
    if cached not in _cache:
        try:
            text = path.read_text(encoding="ascii")
        except (OSError, UnicodeDecodeError) as exc:
            raise AuditKeyError(f"无法读取审计密钥文件 {path}:{exc}") from exc
        _cache.clear()
        _cache[cached] = _key(text, f"审计密钥文件 {path}")
    return _cache[cached]


def missing_message() -> str:
    path = key_file()
    return (
        f"未找到审计密钥(文件 {path},或环境变量 XUEJI_AUDIT_KEY),为保护审计日志,系统拒绝写入。"
        f"新部署请运行 `xueji init` 生成;已有部署请从单独保存的密钥备份中恢复该文件(权限 600)。"
    )


def require_key() -> AuditKey:
    """The key, or a Chinese refusal saying how to provide it."""
    key = load_key()
    if key is None:
        raise AuditKeyError(missing_message())
    return key


def create_key_file() -> AuditKey:
    """Write a new random key to the key file, readable by its owner only; never overwrites."""
    path = key_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as out:
        out.write(secrets.token_hex(KEY_BYTES) + "\n")
        out.flush()
        os.fsync(out.fileno())
    os.chmod(path, 0o600)  # whatever the umask
    return _key(path.read_text(encoding="ascii"), f"审计密钥文件 {path}")
