"""Commands of the geolocation family: `geosql ingest-geo`, `geosql images exif`."""

from __future__ import annotations

from pathlib import Path

import click

from geosql.cli.context import open_warehouse
from geosql.registry import registry
from udfs.geoloc.ingest import FORMATS
from udfs.geoloc.revgeo import DEFAULT_MAX_KM


def _images_group() -> click.Group:
    """The `geosql images` group of the vision family (a group of our own without it)."""
    for cmd in registry.commands:
        if isinstance(cmd, click.Group) and cmd.name == "images":
            return cmd
    try:
        from udfs.clip.cli import images_cmd

        return images_cmd
    except ImportError:  # pragma: no cover - the vision family is part of geosql

        @registry.command
        @click.group("images")
        def images() -> None:
            """Images of captions: EXIF GPS."""

        return images


_max_km = click.option(
    "--max-km",
    type=float,
    default=DEFAULT_MAX_KM,
    show_default=True,
    help="Points farther than this from every GeoNames place get no country.",
)


@registry.command
@click.command("ingest-geo")
@click.argument("paths", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option(
    "--dataset", required=True, help="Name of the geotagged dataset (e.g. mp16, im2gps3k)."
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default="auto",
    show_default=True,
    help="mp16 (MP16-Pro), im2gps (IM2GPS3K/YFCC4K/YFCC25600), yfcc100m, plain id,lat,lon[,path].",
)
@click.option("--image-root", default=None, help="Prefix for the image paths in the files.")
@_max_km
@click.pass_context
def ingest_geo_cmd(ctx, paths, dataset, fmt, image_root, max_km) -> None:
    """Load geotagged image metadata into geo_images (replaces DATASET; all or nothing)."""
    from udfs.geoloc.ingest import ingest_geo

    with open_warehouse(ctx) as con:
        r = ingest_geo(con, list(paths), dataset, fmt, max_km, image_root)
    skipped = f", {r.skipped_no_gps} rows without GPS skipped" if r.skipped_no_gps else ""
    click.echo(
        f"{dataset}: {r.rows} geotagged images from {len(paths)} file(s){skipped}; country given "
        f"for {r.country_given}, from the nearest place for {r.country_geocoded}, none for "
        f"{r.no_country}"
    )


@_images_group().command("exif")
@click.option("--dataset", required=True, help="Captions dataset whose images to read.")
@click.option("--image-root", default=None, help="Folder the relative image paths are under.")
@_max_km
@click.pass_context
def exif_cmd(ctx, dataset, image_root, max_km) -> None:
    """Read EXIF GPS of a dataset's images into geo_images (image_id = caption_id)."""
    from udfs.geoloc.exif import load_exif

    with open_warehouse(ctx) as con:
        n, total = load_exif(con, dataset, image_root, max_km)
    click.echo(f"{dataset}: {n} of {total} images have EXIF GPS (geo_images, source 'exif')")
