"""Solving: candidates by interval arithmetic, pruning, and the CP-SAT choice of the top K."""
