"""python -m explorer: the mm-explorer command line."""
import sys

from .cli.main import main

sys.exit(main())
