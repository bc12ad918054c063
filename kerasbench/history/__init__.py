"""History of results over time or versions: change points, their significance, a CI gate.

``build_series`` groups results per configuration and orders them (by date or by a
package's version); ``detect`` finds the segments and significant steps (PELT from
``ruptures``, see ``changepoints``); ``exit_code`` decides a CI gate; ``report_lines``
renders plain text and ``timeline`` plain data for an HTML page.
"""

from kerasbench.history.changepoints import (
    ALPHA,
    History,
    Segment,
    Step,
    detect,
    exit_code,
    newest_regression,
    noise_sigma,
)
from kerasbench.history.render import history_lines, report_lines, timeline
from kerasbench.history.series import Entry, Series, build_series, package_version

__all__ = [
    "ALPHA",
    "Entry",
    "History",
    "Segment",
    "Series",
    "Step",
    "build_series",
    "detect",
    "exit_code",
    "history_lines",
    "newest_regression",
    "noise_sigma",
    "package_version",
    "report_lines",
    "timeline",
]
