"""The seeded customers' interactions: how many each one gets (exactly the total
asked for, spread by their rhythms), when (business hours, newest within a rhythm
or, for the quiet ones, several rhythms back), and the rows themselves, drawn from
the demo's scenes customer by customer straight into the bulk writer.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import connection

from tendero.core.apportion import largest_remainders
from tendero.customers.seeding_tables import Table, date_format
from tendero.dialogue import demo as dialogue_demo
from tendero.dialogue.models import Interaction

LONG_HISTORY = 2_500
LONG_HISTORY_EVERY = 100_000
HISTORY_DAYS = 3 * 365
NO_HISTORY_SHARE = 0.05
QUIET_SHARE = 0.05
DAY = 86_400.0
# Rhythm (days) and weight: most customers hear from us monthly or quarterly.
RHYTHMS = ((7, 5), (14, 10), (30, 35), (90, 35), (180, 15))


@dataclass
class Plan:
    """One customer's history: `count` interactions, the last at `end` (epoch seconds),
    about `gap` seconds apart going back; the account executive `rep` since
    `rep_since`, `previous_rep` before."""

    customer_id: int
    organisation: bool
    language: str
    created: float
    count: int = 0
    end: float = 0.0
    gap: float = 0.0
    rep: int = 0
    previous_rep: int | None = None
    rep_since: float = 0.0
    rhythm_days: int | None = None


class History:
    """The interactions of the seeded customers: how many each one gets (exactly
    `total` in all, spread by their rhythms), and the rows themselves, generated
    customer by customer."""

    def __init__(
        self,
        first_id: int,
        count: int,
        total: int,
        reps: list[int],
        staff: dict[str, list[int]],
        departments: dict[str, int],
        now: datetime,
        ts: Callable[[datetime], Any],
    ) -> None:

        self.rng = random.Random(first_id * 31 + 7)
        self.first_id = first_id
        self.count = count
        self.total = total
        self.reps = reps
        self.staff = staff
        self.departments = departments
        self.now = now.timestamp()
        self.ts = ts
        self.written = 0
        self.long_ids = (
            {cid for cid in range(first_id, first_id + count, LONG_HISTORY_EVERY)}
            if total >= 4 * LONG_HISTORY
            else set()
        )
        self.long_total = LONG_HISTORY * len(self.long_ids)
        self.table = Table(
            Interaction,
            (
                "customer_id", "channel", "direction", "voice", "department_id",
                "handled_by_id", "occurred_at", "subject", "notes", "sentiment", "outcome",
                "follow_up_on", "follow_up_done_at", "created_by_id", "created_at",
                "updated_at",
            ),
        )  # fmt: skip
        # Pools of pre-drawn scenes (the demo's), one per kind of customer and language:
        # drawing from a pool costs one random number per interaction.
        self.pools: dict[tuple[bool, str], list[tuple[Any, ...]]] = {}
        pool_rng = random.Random(20_261_126)
        for organisation in (False, True):
            for language in ("es", "en"):
                pool = []
                for _n in range(4096):
                    scene = dialogue_demo.pick_scene(pool_rng, organisation)
                    text = pool_rng.choice(scene.texts[language])
                    pool.append(
                        (
                            dialogue_demo.pick_channel(pool_rng, scene),
                            str(scene.direction),
                            str(scene.voice),
                            departments.get(scene.department),
                            scene.department,
                            text.subject,
                            text.notes,
                            "{name}" in text.notes,
                            dialogue_demo.pick_sentiment(pool_rng, scene),
                            text.outcome,
                            scene.follow_up,
                        )
                    )
                self.pools[(organisation, language)] = pool

    def plan_batch(self, first_id: int, size: int) -> list[Plan]:
        """How many interactions each customer of the batch gets and when: the batch
        gets its share of the total (long histories apart), spread by span/rhythm."""
        rng = self.rng
        plans = []
        weights = []
        start_of_history = self.now - HISTORY_DAYS * DAY
        for cid in range(first_id, first_id + size):
            plans.append(Plan(cid, False, "es", 0.0))
        # The customers' creation times are drawn by the customer generator; the
        # history only needs a span, so it draws its own independent of them.
        for plan in plans:
            plan.created = self.now - rng.uniform(60, 8 * 365 * DAY)
            if plan.customer_id in self.long_ids or rng.random() >= NO_HISTORY_SHARE:
                start = max(plan.created, start_of_history)
                rhythm = rng.choices(_RHYTHMS_DAYS, cum_weights=_RHYTHMS_CUMULATIVE)[0]
                weights.append(max((self.now - start) / DAY / rhythm, 1.0))
            else:
                weights.append(0.0)
        done_before = first_id - self.first_id
        share = self._share(done_before + size) - self._share(done_before)
        long_here = [p for p in plans if p.customer_id in self.long_ids]
        for plan in long_here:
            plan.count = LONG_HISTORY
            weights[plan.customer_id - first_id] = 0.0
        spread(plans, weights, share)
        for plan in plans:
            if plan.count:
                start = max(plan.created, start_of_history)
                quiet = rng.random() < QUIET_SHARE and plan.customer_id not in self.long_ids
                span = self.now - start
                # The gap the count implies, then the end: a quiet relationship's last
                # interaction lies three to six gaps back, an ordinary one within a gap.
                gap = span / plan.count
                back = gap * (rng.uniform(3, 6) if quiet else rng.uniform(0.05, 0.8))
                back = min(back, span * 0.5)
                plan.end = business_hours(self.now - back, rng.random())
                if plan.end >= self.now:
                    plan.end = self.now - back
                plan.gap = (plan.end - start) / plan.count
                plan.rhythm_days = learned_rhythm(plan.gap, plan.count, plan.end, self.now)
        return plans

    def _share(self, customers_done: int) -> int:
        """Interactions (outside the long histories) due to the first `customers_done`."""
        spread = max(self.total - self.long_total, 0)
        return round(spread * customers_done / self.count)

    def rows(self, plans: list[Plan], first_names: dict[int, str]) -> Iterator[tuple[Any, ...]]:
        """The batch's interactions, newest first per customer, one tuple at a time."""
        rng = self.rng
        random_ = rng.random
        ts = self.ts
        extra = self.table.defaults
        staff = self.staff
        day = date_format(connection.vendor == "postgresql")
        today = datetime.fromtimestamp(self.now, UTC).date()
        for plan in plans:
            if not plan.count:
                continue
            pool = self.pools[(plan.organisation, plan.language)]
            size = len(pool)
            name = first_names.get(plan.customer_id, "")
            moment = plan.end
            # Nothing before the customer existed, nothing older than three years.
            floor = max(plan.created, self.now - HISTORY_DAYS * DAY) + 60
            for number in range(plan.count):
                (
                    channel, direction, voice, department_id, department, subject, notes,
                    has_name, sentiment, outcome, follow_up,
                ) = pool[int(random_() * size)]  # fmt: skip
                if number:
                    moment = max(moment - plan.gap * (0.6 + 0.8 * random_()), floor)
                    at = business_hours(moment, random_())
                    # Never after the last interaction, never before the customer existed.
                    at = max(min(at, plan.end), floor)
                else:
                    at = moment
                occurred = datetime.fromtimestamp(at, UTC)
                if department == "sales":
                    handler = plan.rep if moment >= plan.rep_since else plan.previous_rep
                elif department in staff:
                    people = staff[department]
                    handler = people[int(random_() * len(people))]
                else:
                    handler = None
                follow_up_on = None
                done_at = None
                if follow_up and random_() < follow_up:
                    due = (occurred + timedelta(days=1 + int(random_() * 14))).date()
                    follow_up_on = day(due)
                    if (today - due).days > 3 and random_() < 0.93:
                        done_at = ts(occurred + timedelta(days=(today - due).days // 2 or 1))
                occurred_text = ts(occurred)
                yield (
                    plan.customer_id, channel, direction, voice, department_id, handler,
                    occurred_text, subject, notes.format(name=name) if has_name else notes,
                    sentiment, outcome, follow_up_on, done_at, handler, occurred_text,
                    done_at or occurred_text, *extra,
                )  # fmt: skip
            self.written += plan.count


_RHYTHMS_DAYS = [days for days, _weight in RHYTHMS]
_RHYTHMS_CUMULATIVE = list(itertools.accumulate(weight for _days, weight in RHYTHMS))


# Business hours, 8:00 to 19:00 UTC (Europe's working day; close enough for a benchmark).
_OPENS = 8 * 3600.0
_OPEN_FOR = 11 * 3600.0


def business_hours(moment: float, fraction: float) -> float:
    """The same day as `moment` (epoch seconds, UTC), at `fraction` of the working day."""
    return moment - moment % DAY + _OPENS + fraction * _OPEN_FOR


def spread(plans: list[Plan], weights: list[float], total: int) -> None:
    """Add `total` interactions to the plans in proportion to `weights`, exactly
    (largest remainders get what rounding down leaves)."""
    for plan, n in zip(plans, largest_remainders(weights, total), strict=True):
        plan.count += n


def learned_rhythm(gap: float, count: int, end: float, now: float) -> int | None:
    """What `tendero.dialogue.rhythm` learns from such a history: the mean gap of the
    last 365 days, in days, within 7..365, if at least 3 interactions fall in it."""
    window_start = now - 365 * DAY
    if end < window_start:
        return None
    in_window = min(count, int((end - window_start) / gap) + 1)
    if in_window < 3:
        return None
    return max(7, min(365, round(gap / DAY)))
