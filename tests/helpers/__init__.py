"""Scripts the fault-tolerance tests run in separate processes."""
