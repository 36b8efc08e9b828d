"""控辍保学 cases: opening and handling 个案, the ledgers, 家访 and 劝返 visits and their import."""
