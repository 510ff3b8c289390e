from gitops_gen.cli import main

main()
