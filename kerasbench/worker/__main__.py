"""python -m kerasbench.worker SPEC_JSON RESULT_JSON"""

import sys

from kerasbench.worker.main import main

sys.exit(main(sys.argv[1:]))
