"""xueji (学籍): dropout-prevention case tracker for Chinese compulsory education."""

__version__ = "0.1.0"
