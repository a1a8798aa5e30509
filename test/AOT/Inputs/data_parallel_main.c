/* The seed's second program (SGD on y = w x + b) compiled with
   --data-parallel, run by 2 processes that see different data: process 0
   (x, y) = (2, 3), process 1 (1, 1). Each call averages the two
   gradients, so both apply the same update; the lead process prints the
   loss (the mean over the processes) and the variables, and every
   process checks that its variables are bit-identical to process 0's. */
#include <mpi.h>
#include <stdio.h>
#include <string.h>

#include "seed2.h"

int main(int argc, char **argv) {
  MPI_Init(&argc, &argv);
  int rank, size;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  MPI_Comm_size(MPI_COMM_WORLD, &size);
  seed2_state *s = seed2_state_create();
  if (!s || size != 2)
    MPI_Abort(MPI_COMM_WORLD, 1);
  float x = rank == 0 ? 2.0f : 1.0f, y = rank == 0 ? 3.0f : 1.0f;
  int differ = 0;
  for (int i = 0; i < 3; ++i) {
    float loss;
    seed2_train_step(s, &x, &y, &loss);
    float vars[2] = {*(float *)s->variables[0], *(float *)s->variables[1]};
    float lead[2];
    memcpy(lead, vars, sizeof lead);
    MPI_Bcast(lead, 2, MPI_FLOAT, 0, MPI_COMM_WORLD);
    differ |= memcmp(lead, vars, sizeof vars) != 0;
    if (rank == 0)
      printf("Loss: %g, Weight: %g, Bias: %g\n", loss, vars[0], vars[1]);
  }
  int anyDiffer = 0;
  MPI_Allreduce(&differ, &anyDiffer, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
  if (rank == 0)
    printf("%llu steps; variables %s on both processes\n",
           (unsigned long long)s->step_count,
           anyDiffer ? "DIFFER" : "bit-identical");
  seed2_state_free(s);
  MPI_Finalize();
  return anyDiffer;
}
