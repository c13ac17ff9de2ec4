"""The review chain as a pure state machine (docs/rules.md §2-§3), by concern:

- :mod:`.state`: what the chain remembers, the effects it asks for, :class:`Refusal`;
- :mod:`.core`: :class:`Chain` itself (refuse, apply, record, move);
- :mod:`.filing`, :mod:`.review`, :mod:`.publicity`, :mod:`.committee`, :mod:`.changes`: each
  command's rule (how it is refused) and transition (how it is applied), by stage;
- :mod:`.timers`: deadlines the workflow enforces, computed deadlines, the at-risk warning;
- :mod:`.view` and :mod:`.notifications`: what readers see and who is told.

Which function answers which command: :mod:`domain.commands`.
"""

from domain.chain.core import Chain
from domain.chain.state import (
    HISTORY_EVENT_BUDGET,
    ChainState,
    Effect,
    Prepared,
    Refusal,
    Step,
    explain,
)

__all__ = [
    "HISTORY_EVENT_BUDGET",
    "Chain",
    "ChainState",
    "Effect",
    "Prepared",
    "Refusal",
    "Step",
    "explain",
]
