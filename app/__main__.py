import sys

from photosift.app.cli import main

sys.exit(main())
