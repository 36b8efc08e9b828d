"""The dashboards' figures counted in SQL, and 巩固率."""
