"""Reading an exploration: the state graph as networkx, the values that make an invariant false."""
