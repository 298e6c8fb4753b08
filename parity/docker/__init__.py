"""The Docker side: plans, emitted files, compose setups read back, and the engine."""
