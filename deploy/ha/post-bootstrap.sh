#!/bin/sh
# Patroni runs this once, on the node that initialises the cluster, with a connection string.
set -e
psql "$1" -v ON_ERROR_STOP=1 -c "CREATE DATABASE boxoffice"
