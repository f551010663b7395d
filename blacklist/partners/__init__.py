"""Partner agencies and joint sanctions (DOMAIN.md §4, DESIGN.md §6): the registry of partners and
their keys, the pull feed and snapshot, the signed push, checks, acknowledgements and hits.

Pull is the truth, push is the accelerator: both read the change log (``blacklist.changelog``) and
cut every record to the partner's measures and scope (``rules.partner_item``).
"""
