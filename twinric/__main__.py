from twinric.cli import main

main()
