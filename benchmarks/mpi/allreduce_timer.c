/* Times the float all-reduces of a data-parallel step through MPI's
   profiling interface: loaded with LD_PRELOAD into tape-run, this
   MPI_Allreduce is the one the compiled step's call resolves to (the JIT
   looks symbols up in the process, preloaded libraries first); it times
   PMPI_Allreduce and, at exit, writes to stderr the number of float and
   double all-reduces, their total seconds and the bytes each sent.
   tape-run's own bookkeeping (one integer all-reduce per state
   comparison) is not counted.

   Build: mpicc -shared -fPIC -O2 allreduce_timer.c -o liballreduce_timer.so */
#include <mpi.h>
#include <stdio.h>

static double seconds;
static long long calls, bytes;

int MPI_Allreduce(const void *send, void *recv, int count,
                  MPI_Datatype type, MPI_Op op, MPI_Comm comm) {
  if (type != MPI_FLOAT && type != MPI_DOUBLE)
    return PMPI_Allreduce(send, recv, count, type, op, comm);
  double start = MPI_Wtime();
  int rc = PMPI_Allreduce(send, recv, count, type, op, comm);
  seconds += MPI_Wtime() - start;
  ++calls;
  bytes = (long long)count * (type == MPI_FLOAT ? 4 : 8);
  return rc;
}

__attribute__((destructor)) static void report(void) {
  if (calls)
    fprintf(stderr, "allreduce-timer: %lld calls, %.6f s, %lld bytes each\n",
            calls, seconds, bytes);
}
