"""What every capability shares: scope and access checks, audited exports, the school calendar."""
