"""The Docker side: plans, emitted files, compose setups read back, and the engine."""

#: The data image's default base (``--base-image``): in this light module, so that the CLI shows it
#: without importing the plan.
DEFAULT_BASE_IMAGE = "busybox:latest"
