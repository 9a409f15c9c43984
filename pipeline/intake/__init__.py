"""Where recordings and call-log rows come from."""
