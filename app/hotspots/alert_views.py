"""Alert subscriptions and past alerts (routes on ``app.hotspots.views.bp``)."""
