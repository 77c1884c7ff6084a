"""ZKTeco attendance terminals: the port 4370 wire protocol (`drivers.zk.codec`)."""
