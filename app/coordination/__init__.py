"""Partner coordination: shared cases, response targets and the report lifecycle (issue 5).

``working_hours`` and ``working_time`` count working time against an organisation's hours and
bank holidays; ``lifecycle`` says which status changes are allowed, by whom and on what terms
(these three need no Flask application and no database). ``routing`` and ``claims`` are the
services for routes, claims and declines, ``queries`` reads cases, the inbox and triage, and
``views`` serves them. docs/coordination.md explains them.
"""
