"""Resource-based policies: who may invoke a function version or alias, and who may use a
layer version."""
