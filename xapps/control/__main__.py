import sys

from xapps.control.xapp import main

sys.exit(main())
