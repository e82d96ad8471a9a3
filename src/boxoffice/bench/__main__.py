"""`python -m boxoffice.bench`: the same as `boxoffice bench`."""

import typer

from boxoffice.bench.runner import bench

if __name__ == "__main__":
    typer.run(bench)
