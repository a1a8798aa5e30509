//===- Processes.h - The processes of a data-parallel run -------*- C++ -*-===//
//
// A data-parallel model (compiled with `data-parallel`) runs as one process
// per MPI rank: each trains on its rows, the compiled step averages the
// gradients over all of them, and the variables stay bit-identical. This
// is what a runner needs around that: MPI started and stopped, the rank
// and the number of processes, the whole job ended when one process fails,
// and a check that the processes' states agree. In a build without MPI
// every process is alone and start() says why it cannot do more.
//
//===----------------------------------------------------------------------===//

#ifndef TAPE_RUNTIME_PROCESSES_H
#define TAPE_RUNTIME_PROCESSES_H

#include "tape/Runtime/Model.h"
#include "tape/Runtime/Status.h"

#include <memory>
#include <string>

namespace tape {

class Processes {
public:
  /// True when this build can run data-parallel models (it links MPI).
  static bool supported();

  /// Starts MPI (MPI_Init: under mpirun, this process joins the job;
  /// alone, it is a job of one). Once per program. Fails, saying what to
  /// install, in a build without MPI.
  static Status start(std::unique_ptr<Processes> &out);

  /// Stops MPI (MPI_Finalize), after every process has come here.
  ~Processes();
  Processes(const Processes &) = delete;
  Processes &operator=(const Processes &) = delete;

  /// This process's rank, 0 to count() - 1.
  int rank() const { return rank_; }
  /// The number of processes of the job.
  int count() const { return count_; }

  /// Ends the whole job now with `code` (MPI_Abort): the other processes
  /// may be waiting for this one in a collective call, and would wait
  /// forever.
  [[noreturn]] void abort(int code);

  /// Compares every process's variables and step count with process 0's,
  /// bit for bit (a collective call: every process calls it). Fails on
  /// every process, naming the first variable that differs and a process
  /// that has it, if they do not agree.
  Status checkSameState(const State &state);

  /// A step (or a comparison of states) that runs longer than this on
  /// this process ends the job, 0 for no limit. A collective call waits
  /// for every process; one that stopped without dying (a hung node,
  /// SIGSTOP) would hold the others forever, and mpirun only notices
  /// processes that end.
  void setTimeout(double seconds);
  /// Starts the clock for `what` ("step 12"); when it runs out, this
  /// process says so and exits with 1, so that mpirun ends the job.
  void armTimeout(const std::string &what);
  /// Stops the clock (the call returned).
  void disarmTimeout();

private:
  Processes() = default;
  struct Watchdog;
  int rank_ = 0;
  int count_ = 1;
  std::unique_ptr<Watchdog> watchdog;
};

} // namespace tape

#endif // TAPE_RUNTIME_PROCESSES_H
