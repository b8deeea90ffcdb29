"""python -m explorer: the mm-explorer command line."""
import sys

from .cli import main

sys.exit(main())
