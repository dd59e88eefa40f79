"""Explicit state machines: a TextChoices status plus one table of allowed transitions."""

from dataclasses import dataclass

from .errors import IllegalTransition


@dataclass(frozen=True)
class Transition:
    action: str
    source: tuple
    target: object
    label: object
    actor: str  # the policy name that may perform it, e.g. "lead" or "province_admin"
    reason_required: bool = False


class StateMachine:
    def __init__(self, transitions: list[Transition]):
        self.transitions = transitions
        self.by_action = {t.action: t for t in transitions}

    def actions_from(self, state) -> list[Transition]:
        return [t for t in self.transitions if state in t.source]

    def transition_for(self, action: str, current) -> Transition:
        transition = self.by_action.get(action)
        if transition is None:
            from .errors import ValidationFailed
            from django.utils.translation import gettext_lazy as _

            raise ValidationFailed.single("action", "state.unknown_action", _("Unknown action."))
        if current not in transition.source:
            raise IllegalTransition(current=current, requested=transition.target)
        return transition
