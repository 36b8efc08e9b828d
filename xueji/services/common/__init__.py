"""What every capability shares: scope and access checks, audited exports, the school calendar, the bound on
text length (registered here, so that every service's session refuses over-long text before the database)."""

from xueji.services.common import text_bounds as text_bounds
