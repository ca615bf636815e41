import sys

from s1_server.cli import main

sys.exit(main())
