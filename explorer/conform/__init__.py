"""The model against real kernels: predictions replayed as C programs in a VM (docs/conformance.md)."""
