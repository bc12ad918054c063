"""gpu_check: one prepared run that proves kerasbench's GPU paths (see __main__.py)."""
