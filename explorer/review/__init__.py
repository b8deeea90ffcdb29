"""Patch review: what one kernel version (or constant setting) reaches that another does not."""
