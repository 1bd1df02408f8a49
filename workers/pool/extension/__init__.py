"""The AWS Parameters and Secrets Lambda Extension: the server each pool worker runs for its
environments, and each environment's cache."""
