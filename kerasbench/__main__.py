"""python -m kerasbench ... (the same as the ``kerasbench`` command)"""

import sys

from kerasbench.cli import main

sys.exit(main())
