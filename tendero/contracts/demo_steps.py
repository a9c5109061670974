"""The purchases' step of the demo."""

import random

from tendero.contracts.demo import create_demo_purchases
from tendero.core.registry import DemoRun

# The purchases' own seed: they do not shift when other steps change.
SEED = 20_261_123


def purchases(demo: DemoRun) -> None:
    """Three years of purchases from a buy-till-you-die process."""
    made = create_demo_purchases(demo.customers, demo.today, random.Random(SEED))
    demo.say(f"{made:,} purchases over three years.")
