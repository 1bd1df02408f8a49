from workers.runner import main

main()
