"""The change log: every publication, correction, extension, removal and restriction change, in one
gap-free, commit-ordered sequence that the partners' feed and push follow (DESIGN.md §6)."""
