"""`python -m boxoffice.bench`: the same as `boxoffice bench`."""

import typer

from boxoffice.bench.command import bench

if __name__ == "__main__":
    typer.run(bench)
