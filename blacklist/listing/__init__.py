"""The list itself: subjects, cases, listings and performances, and their legal lifecycle
(SPC provisions on publishing the list of dishonest judgment debtors, 法释〔2017〕7号)."""
