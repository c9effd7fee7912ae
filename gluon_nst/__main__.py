"""python -m gluon_nst ... is the gluon-nst command."""
import sys

from .cli import main

sys.exit(main())
