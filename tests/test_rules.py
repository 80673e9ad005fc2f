"""Each rule has one source in the domain, and what else spells it agrees with it."""

import pytest

from recall.domain.cases import (
    ALLOWED,
    CLOSED,
    SIDE_STATUSES,
    STAGE_REACHED,
    STAGES,
    Status,
    channel_of,
    stages_of,
)
from recall.domain.definition import REMEDIES, REMEDY_WORDS
from recall.notices.templates import TemplateSet
from recall.reporting.completion import Funnel
from recall.settings import PROJECT_TEMPLATES


def test_every_status_has_a_funnel_stage_and_side_and_closed_ones_are_statuses():
    assert set(STAGE_REACHED) == set(Status)
    assert {Status(s) for s in (*SIDE_STATUSES, *CLOSED)} <= set(Status)
    path = (Status.IDENTIFIED, Status.NOTIFIED, Status.CONTACTED, Status.RESOLVED)
    assert tuple(s.value for s in path) == STAGES


@pytest.mark.parametrize("old", [s for s in ALLOWED if s is not None])
def test_no_lifecycle_move_takes_a_case_out_of_a_stage_it_reached(old):
    """A figure counted once stays counted: the funnel never shrinks as cases move on, but for
    a notice that turns out not to have arrived (a letter returned): notified back to identified.

    `notified`: a notice reached the case (`cases.notified_by`), kept by every other move; an
    unreachable case may have been notified or not.
    """
    for new in ALLOWED[old]:
        if (old, new) == (Status.NOTIFIED, Status.IDENTIFIED):
            assert stages_of(new) == ("identified",)  # the notice is no longer counted
            continue
        known = (False, True) if old == Status.UNREACHABLE else (STAGE_REACHED[old] >= 2,)
        for notified in known:
            assert set(stages_of(old, notified)) <= set(stages_of(new, notified)), (old, new)


def test_a_stage_is_counted_only_once_it_is_reached():
    funnel = Funnel()
    funnel.add("unreachable", 2)  # no notice ever reached them: identified only
    funnel.add("unreachable", 1, notified=True)  # notified, never answered
    funnel.add("declined", 2)  # contacted, no remedy
    funnel.add("resolved", 1)
    assert (funnel.identified, funnel.notified, funnel.contacted, funnel.resolved) == (6, 4, 3, 1)
    assert (funnel.unreachable, funnel.declined, funnel.escalated) == (3, 2, 0)
    assert stages_of("unreachable") == ("identified",)
    assert stages_of("unreachable", notified=True) == ("identified", "notified")


def test_a_case_is_counted_in_the_channel_it_is_worked_through():
    assert [channel_of(True, True), channel_of(True, False), channel_of(False, False)] == [
        "call", "letter", "notice"
    ]  # fmt: skip


def test_every_remedy_has_its_words_in_each_call_script_language():
    scripts = sorted(p.name.split(".")[1] for p in (PROJECT_TEMPLATES / "scripts").glob("call.*"))
    assert scripts and set(scripts) <= set(REMEDY_WORDS)
    for language in scripts:
        assert set(REMEDY_WORDS[language]) == set(REMEDIES), language


@pytest.mark.parametrize("kind", ["letter", "press"])
def test_every_letter_template_words_exactly_the_remedies_a_recall_may_offer(kind):
    templates = TemplateSet(PROJECT_TEMPLATES / "letters", "fr")
    languages = templates.languages(kind)
    assert languages
    for language in languages:
        assert set(templates.get(kind, language).remedy_labels) == set(REMEDIES), language
