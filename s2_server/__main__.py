import sys

from s2_server.cli import main

sys.exit(main())
