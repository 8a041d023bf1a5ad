import sys

from ganem.cli import main

sys.exit(main())
