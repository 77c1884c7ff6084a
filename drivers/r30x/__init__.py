"""R30x fingerprint modules (R307, R503, AS608, ZFM): the sans-I/O codec."""
