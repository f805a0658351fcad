"""Capacity planning: synthetic health systems, latency benchmarks and capacity simulation."""
