"""Stewardship's step of the demo: the possible duplicates to review."""

from tendero.core.registry import DemoRun
from tendero.stewardship.duplicates import detect_duplicates


def duplicates(demo: DemoRun) -> None:
    demo.say(f"{detect_duplicates()} possible duplicates to review.")
