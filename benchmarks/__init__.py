"""Benchmarks: synthetic clinics and latency measurements (reports, never timed assertions)."""
