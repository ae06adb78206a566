import VMLabCLI
VMLabCommand.main()
