"""The node canvas: a QGraphicsScene that mirrors the graph model, and its view."""
