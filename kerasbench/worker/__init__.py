"""Code that runs inside a backend process: one Spec in, one raw measurement out.

Nothing in the orchestrator imports this package; it is started as
``python -m kerasbench.worker SPEC_JSON RESULT_JSON`` by ``kerasbench.orchestrate.point``.
"""
