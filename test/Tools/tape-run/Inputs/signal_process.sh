#!/bin/sh
# Usage: signal_process.sh RANK SIGNAL LOG -- COMMAND...
# Runs COMMAND; the process of rank RANK (OpenMPI's or MPICH's rank
# variable) sends itself SIGNAL once the lead process has logged a step
# in LOG (training is under way: the signal lands in the steps, not the
# compile).
rank=$1 signal=$2 log=$3
shift 4
me=${OMPI_COMM_WORLD_RANK:-${PMI_RANK:-0}}
if [ "$me" = "$rank" ]; then
  (
    while [ ! -s "$log" ]; do sleep 0.05; done
    sleep 0.5
    kill -s "$signal" $$
  ) &
fi
exec "$@"
