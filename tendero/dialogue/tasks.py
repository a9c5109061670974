"""Background work on the dialogue (huey). Tasks are thin: they take ids and call a service."""
