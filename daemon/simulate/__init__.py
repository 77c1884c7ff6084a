"""`hallkeeper simulate`: the simulators of a hall's devices in a process of
their own, and the overlay config that points the production daemon at them."""
