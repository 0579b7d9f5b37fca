"""The home page map and the site's information pages."""
