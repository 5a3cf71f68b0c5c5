from tcli.cli import main

main()
