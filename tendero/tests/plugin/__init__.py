"""A small app installed in the test settings only, to show that an app plugs into
Tendero by registering from its `ready()`, touching no other app: its model's
rows on the customer timeline, its router under /api/v1/, its pages and its entry
in the sidebar. tests/test_plugin.py exercises each."""
