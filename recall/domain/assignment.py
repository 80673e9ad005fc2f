"""Splitting a call list across agents: by capacity, language and skill, urgent cases first.

Cases are placed in groups of the same need (language, skill). The most constrained group
goes first; each group is shared by water-filling, so that every eligible agent ends as
close as possible to the same load per unit of capacity; within a group the cases, sorted
by priority, are dealt in turn, so the most urgent customers are spread over all agents
and called first everywhere rather than queued behind one agent.
"""

from __future__ import annotations

import heapq
import math
from collections import Counter, defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from itertools import chain
from typing import NamedTuple


@dataclass(frozen=True)
class AgentSlot:
    agent_id: str
    capacity: int
    languages: frozenset[str]
    skills: frozenset[str] = frozenset()
    load: int = 0  # open cases the agent keeps


class Item(NamedTuple):  # a tuple: hundreds of thousands are built per assignment
    """A case waiting for an agent."""

    case_id: int
    priority: int
    language: str
    skill: str | None = None  # an escalation needs a specialist with this skill
    strict: bool = False  # never to an agent without the skill (high hazard)


@dataclass
class Plan:
    assigned: dict[int, str] = field(default_factory=dict)  # case_id -> agent_id
    unplaced: Counter[str] = field(default_factory=Counter)  # why -> cases left without agent
    fallbacks: Counter[str] = field(default_factory=Counter)  # what was relaxed -> cases


Need = tuple[str, str | None, bool]  # language, skill, strict: cases placed alike


def plan_assignment(items: Sequence[Item], agents: Sequence[AgentSlot], home_language: str) -> Plan:
    """Give every item one agent, keeping loads per unit of capacity as even as possible."""
    groups: dict[Need, list[int]] = defaultdict(list)
    for item in sorted(items, key=lambda i: (i.priority, i.case_id)):
        groups[(item.language, item.skill, item.strict)].append(item.case_id)
    return plan_groups(groups, agents, home_language)


def plan_groups(
    groups: Mapping[Need, Sequence[int]], agents: Sequence[AgentSlot], home_language: str
) -> Plan:
    """`plan_assignment` of cases already grouped by need, each group most urgent first."""
    plan = Plan()
    if not agents:
        if any(groups.values()):
            plan.unplaced["no active agent"] = sum(len(ids) for ids in groups.values())
        return plan
    loads = {a.agent_id: a.load for a in agents}
    total = sum(loads.values()) + sum(len(ids) for ids in groups.values())
    capacity = sum(a.capacity for a in agents)
    ceilings = {a.agent_id: math.ceil(total * a.capacity / capacity) for a in agents}
    choices = {key: _eligible(agents, key, home_language) for key in groups}
    for key in sorted(groups, key=lambda k: (len(choices[k][0]), k[0], k[1] or "", k[2])):
        eligible, relaxed = choices[key]
        ids = groups[key]
        if not ids:
            continue
        if not eligible:
            plan.unplaced[relaxed] += len(ids)
            continue
        if relaxed:
            plan.fallbacks[relaxed] += len(ids)
        counts = water_fill(len(ids), eligible, loads, ceilings)
        for agent_id, count in counts.items():
            loads[agent_id] += count
        plan.assigned.update(zip(ids, deal(counts), strict=True))
    return plan


def _eligible(agents: Sequence[AgentSlot], key: Need, home: str) -> tuple[list[AgentSlot], str]:
    """Agents who may take a group, and what had to be relaxed to find them ("" if nothing)."""
    language, skill, strict = key
    pool = list(agents)
    relaxed = ""
    if skill:
        specialists = [a for a in pool if skill in a.skills]
        if not specialists:
            if strict:
                return [], f"no active agent with the skill {skill!r}"
            relaxed = f"no agent with the skill {skill!r}: kept with generalists"
        else:
            pool = specialists
    speakers = [a for a in pool if language in a.languages]
    if speakers:
        return speakers, relaxed
    home_speakers = [a for a in pool if home in a.languages]
    return home_speakers or pool, relaxed or f"no agent speaks {language!r}: called in {home!r}"


def water_fill(
    count: int,
    agents: Sequence[AgentSlot],
    loads: dict[str, int],
    ceilings: dict[str, int] | None = None,
) -> dict[str, int]:
    """Share `count` cases so each agent's (load + share) / capacity ends as level as can be.

    The last few go first to agents still below their `ceilings` (their share rounded up), so
    that rounding never lifts an agent above it while another has room.
    """
    ceiling = ceilings or {}
    if count <= 0:
        return {}

    def shares(level: float) -> dict[str, int]:
        return {a.agent_id: max(0, int(level * a.capacity) - loads[a.agent_id]) for a in agents}

    low, high = (
        0.0,
        (max(loads[a.agent_id] for a in agents) + count) / min(a.capacity for a in agents) + 1,
    )
    for _ in range(60):  # the highest level whose shares do not exceed count
        middle = (low + high) / 2
        if sum(shares(middle).values()) <= count:
            low = middle
        else:
            high = middle
    given = shares(low)

    # The few left over go one by one to whoever would be least loaded after taking one.
    def key(agent_id: str, capacity: int) -> tuple[bool, float, str, int]:
        after = loads[agent_id] + given[agent_id] + 1
        return (after > ceiling.get(agent_id, after), after / capacity, agent_id, capacity)

    heap = [key(a.agent_id, a.capacity) for a in agents]
    heapq.heapify(heap)
    for _ in range(count - sum(given.values())):
        *_, agent_id, capacity = heapq.heappop(heap)
        given[agent_id] += 1
        heapq.heappush(heap, key(agent_id, capacity))
    return {agent_id: n for agent_id, n in given.items() if n}


def deal(counts: dict[str, int]) -> list[str]:
    """Agent of each successive case, so every agent's share is spread from first to last.

    Agent a's j-th case sits at (j + 0.5) / counts[a] of the list, ties in agent order. Agents
    with the same count share those places, so places are sorted once per distinct count and
    case rank (a few thousand), not once per case (hundreds of thousands).
    """
    alike: dict[int, list[str]] = defaultdict(list)
    for agent_id, n in counts.items():
        alike[n].append(agent_id)
    places: dict[float, list[list[str]]] = defaultdict(list)
    for n, agent_ids in alike.items():
        agent_ids.sort()
        for j in range(n):
            places[(j + 0.5) / n].append(agent_ids)
    dealt: list[str] = []
    for place in sorted(places):
        parts = places[place]
        dealt.extend(parts[0] if len(parts) == 1 else sorted(chain.from_iterable(parts)))
    return dealt


def targets(total: int, agents: Sequence[AgentSlot]) -> dict[str, int]:
    """Each agent's fair share of `total` open cases, by capacity (largest remainder)."""
    if not agents:
        return {}
    capacity = sum(a.capacity for a in agents)
    exact = {a.agent_id: total * a.capacity / capacity for a in agents}
    share = {agent_id: int(value) for agent_id, value in exact.items()}
    order = sorted(exact, key=lambda k: (-(exact[k] - share[k]), k))
    for agent_id in order[: total - sum(share.values())]:
        share[agent_id] += 1
    return share


def excess(agents: Sequence[AgentSlot], incoming: int) -> dict[str, int]:
    """How many cases each agent should give up so that everyone can end within their exact
    share by capacity, rounded down or up: the fewest moves, and none once loads are fair."""
    total = sum(a.load for a in agents) + incoming
    capacity = sum(a.capacity for a in agents)
    exact = {a.agent_id: total * a.capacity / capacity for a in agents}
    low = {k: math.floor(v) for k, v in exact.items()}
    high = {k: math.ceil(v) for k, v in exact.items()}
    give = {a.agent_id: max(0, a.load - high[a.agent_id]) for a in agents}
    short = sum(max(0, low[a.agent_id] - a.load) for a in agents)
    short -= incoming + sum(give.values())
    # Not enough freed for those below their share: one more from each of the fullest.
    spare = [a for a in agents if a.load - give[a.agent_id] > low[a.agent_id]]
    spare.sort(key=lambda a: (-(a.load - give[a.agent_id]) / a.capacity, a.agent_id))
    for slot in spare[: max(short, 0)]:
        give[slot.agent_id] += 1
    return {agent_id: n for agent_id, n in give.items() if n}
