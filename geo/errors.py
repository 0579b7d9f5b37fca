"""Errors raised by the spatial toolkit. Each message is written for the person who
entered the value, saying what is wrong and what to do."""


class GeoError(ValueError):
    """Base class: ``str(err)`` is a message fit to show to a user."""


class InvalidCoordinates(GeoError):
    pass


class OutsideCoventry(GeoError):
    pass


class InvalidPostcode(GeoError):
    pass


class UnknownPostcode(GeoError):
    pass


class InvalidBBox(GeoError):
    pass
