import sys

from photosift.app.main import main

sys.exit(main())
