"""Restrictions: the measures catalogue, consumption orders, exit bans, and the effective
restrictions projection (who may not fly, ride, leave the country...) that partners check against."""
