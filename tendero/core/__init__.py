"""The kernel: what every app may use and what imports no app."""
