"""The application layer: use cases (`Service`) and `build_services(settings)`, the one place that wires them."""
