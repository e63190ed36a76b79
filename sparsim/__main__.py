"""`python -m sparsim`: the same as the `sparsim` script."""

import sys

from sparsim.cli import main

sys.exit(main())
