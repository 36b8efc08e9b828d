"""学籍: the registry, its imports and corrections, 学籍异动, term-start reports, rosters and checks."""
