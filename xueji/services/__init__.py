"""Use cases: plain values in, checked, validated, written in one transaction."""
