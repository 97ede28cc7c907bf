import sys

from xapps.pdp.xapp import main

sys.exit(main())
