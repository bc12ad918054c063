"""The orchestrator side, mirroring ``kerasbench.worker``: it never imports a framework.

plan       a request (suite, selection, overrides) -> every point with its verdict
point      one point in one fresh worker process -> its Result
run        a plan as one resumable run, each result saved as it ends
procs      worker process groups: registered, killed on demand, reaped
placement  devices and hosts: which command starts a point, where hosts are
agreement  ``kerasbench parity``: the same weights and batches on every backend
"""
