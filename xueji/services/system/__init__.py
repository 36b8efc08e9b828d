"""系统管理: accounts and sign-in, the audit log's reader, the holiday table."""
