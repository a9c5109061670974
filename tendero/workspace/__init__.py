"""The pages that assemble a customer from every app (the layout and its navigation,
and later the 360 page, the briefing and the timeline page). No app imports it."""
