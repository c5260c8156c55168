"""Image geolocation (issue 18): geotagged reference images, EXIF GPS, reverse geocoding and the
stage `image-geolocate` (methods retrieval, geoclip, g3). Heavy modules load lazily."""

from udfs.geoloc import stage  # noqa: F401  (registers the stage)
