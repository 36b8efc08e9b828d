"""拉网式排查: the sweep's fieldwork, its paper sheet, progress, and reconciliation with the registry."""
