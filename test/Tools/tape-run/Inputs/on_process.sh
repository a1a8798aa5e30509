#!/bin/sh
# Usage: on_process.sh RANK ARGUMENT -- COMMAND...
# Runs COMMAND, with ARGUMENT appended on the process of rank RANK only
# (OpenMPI's or MPICH's rank variable).
rank=$1 argument=$2
shift 3
me=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}
if [ "$me" = "$rank" ]; then
  exec "$@" "$argument"
fi
exec "$@"
