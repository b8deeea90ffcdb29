"""Checking a compiled model: breadth-first search, invariants, limits and checkpoints.

engine is the reference backend in Python; fast/ is the same search compiled to C.
"""
