"""`python -m sparsim.validate [ARGS]` = `sparsim validate [ARGS]`."""

import sys

from sparsim.cli import main

sys.exit(main(["validate", *sys.argv[1:]]))
