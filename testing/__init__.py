"""What the tests and the benchmarks share: builders of campaigns, declarations and actors
(``factories``), of audit events and views (``builders``), files to upload (``samples``), the
drivers of a declaration workflow (``declarations``) and of the HTTP API (``api``), and the
reliability engine (``reliability``). The service itself never imports it (pyproject.toml
``[tool.importlinter]``)."""
