from exgen.cli import main

main()
