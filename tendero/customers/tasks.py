"""Background work on customers (huey). Tasks are thin: they take ids and call a service."""
