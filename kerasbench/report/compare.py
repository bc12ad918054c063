"""The old name of ``report.verdicts``, kept only until the CLI imports the new name.

Delete this file once ``kerasbench/cli.py`` (or ``commands/compare.py``) and
``benchmarks/`` import ``kerasbench.report.verdicts``.
"""

from kerasbench.report.verdicts import *  # noqa: F403
from kerasbench.report.verdicts import __all__  # noqa: F401
