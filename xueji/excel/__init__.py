"""Spreadsheets in and out: parsers (bytes → report) and builders (rows → xlsx bytes)."""
