"""Demo data for a living local system: ``python cli.py tokens demo`` and
``python cli.py demo load``.

**The registry** of notice 001 (``examples/organisations/001_aksu_2024.yaml``: its units,
authorities, committee and finance office, docs/rules.md §11) is imported first; the demo
declarations are filed through its unit ``aks-akesu-highway-station`` and derive their chain from
it.

**The demo campaign** is notice 001's (``examples/campaigns/001_aksu_2024.yaml``: fees, windows,
policies) with every instant moved by the same whole number of days, so that its declaration
window opens today (at the notice's own time of day) and keeps its length, and the review, fee
and materials deadlines keep their place after it (the campaign would be refused otherwise).
Nothing else changes, except that its id ends in ``-demo`` (:data:`DEMO_SUFFIX`) and its name in
"（演示）", so the real notice can be loaded beside it. The campaign year (2024), the seniority
cutoff and the continuing-education years stay the notice's.

**The demo declarations**: thirteen (:data:`PLANS`; one on the private-enterprise route the notice
also opens), each filed by its own applicant and driven
through the HTTP API with tokens minted for the acting person, so the audit trail names who did
what exactly as in production. They cover every state reachable on a real clock without waiting:
on a real clock everything past the unit publicity (five working days, notice 001 四(二)) is days
away, and so are the expiries of the correction window and of the declaration deadline;
:data:`NOT_LOADED` says which states need what.

**Idempotent**: the campaign id is fixed. When the campaign exists, the declarations already in it
(recognised by the applicant's id number, which is fixed per plan) are reported as they are now and
nothing is loaded twice; only plans missing from an interrupted earlier run are loaded. To start
afresh, stop the system and delete ``var/`` (the SQLite store and Temporal's own database).

The functions take an ``httpx.AsyncClient`` (a real one, or one on ``httpx.ASGITransport`` in tests)
and the :class:`settings.Settings` whose ``jwt_secret`` signs the tokens.

- :mod:`tools.demo.data`: the people, the campaign and the planned declarations, as data;
- :mod:`tools.demo.driver`: plays them through the HTTP API (:func:`load_demo`);
- :mod:`tools.demo.report`: what a load found and what it prints;
- :mod:`tools.demo.tokens`: the people's tokens as shell exports (:func:`token_exports`).
"""

from tools.demo.data import (
    DEMO_SUFFIX,
    DEMO_UNIT,
    INSTANTS,
    NOT_LOADED,
    NOTICE_FILE,
    PLANS,
    PRIVATE_UNIT,
    REGISTRY_FILE,
    DemoCampaign,
    Plan,
    demo_actors,
    demo_campaign,
    demo_chain,
    demo_registry,
    notice_campaign,
)
from tools.demo.driver import READY_TIMEOUT, DemoError, load_demo, wait_ready
from tools.demo.report import DemoReport, Loaded
from tools.demo.tokens import token_exports

__all__ = [
    "DEMO_SUFFIX",
    "DEMO_UNIT",
    "INSTANTS",
    "NOTICE_FILE",
    "NOT_LOADED",
    "PLANS",
    "PRIVATE_UNIT",
    "READY_TIMEOUT",
    "REGISTRY_FILE",
    "DemoCampaign",
    "DemoError",
    "DemoReport",
    "Loaded",
    "Plan",
    "demo_actors",
    "demo_campaign",
    "demo_chain",
    "demo_registry",
    "load_demo",
    "notice_campaign",
    "token_exports",
    "wait_ready",
]
