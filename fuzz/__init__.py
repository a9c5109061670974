"""Fuzzing of the live API (`make fuzz`)."""
