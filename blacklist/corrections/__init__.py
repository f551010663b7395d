"""Correction requests by listed people, their review, and reconsideration by the next higher court
(DOMAIN.md §2, Arts. 11–12)."""
