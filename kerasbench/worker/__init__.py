"""Code that runs inside a backend process: one Spec in, one raw measurement out.

The orchestrator imports only ``kerasbench.worker.protocol`` (the record's
schema, framework-free) from this package; the rest runs in the worker
process, started as ``python -m kerasbench.worker SPEC_JSON RESULT_JSON`` by
``kerasbench.orchestrate.point``.
"""
