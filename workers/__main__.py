"""`python -m workers <role>`: run one worker role until SIGINT or SIGTERM."""

from workers.runner import main

main()
