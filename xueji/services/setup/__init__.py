"""上线设置: a county set up from an empty database (divisions, schools, terms, accounts) and kept right over the years."""
