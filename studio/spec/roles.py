"""What part a layer plays in a network, as its declaration states it."""

ROLE_LAYER = "layer"
ROLE_INPUT = "input"
ROLE_OUTPUT = "output"  # loss and plain output nodes: they mark what the model returns
