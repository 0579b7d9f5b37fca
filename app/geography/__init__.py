"""Reference geography: wards, the city boundary and postcode centroids."""
