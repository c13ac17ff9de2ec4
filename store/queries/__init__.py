"""Read-model and audit queries behind the lists, inboxes and views of the API and the console.

Plain functions of a session that read and decide nothing: the callers run them off the event
loop and decide who may see what.

- :mod:`store.queries.declarations`: declaration lists and inboxes, scoped to their reader;
  the open declarations a change must reach; a person's live declaration.
- :mod:`store.queries.campaigns`: campaign-wide views: counts per state, coming deadlines,
  result publicity, returns, certificates.
- :mod:`store.queries.history`: audit rows as a declaration's history, and every event of one
  actor across declarations.
"""
