//===- Processes.cpp - The processes of a data-parallel run ---------------===//
//
// MPI_COMM_WORLD for tape-run. Compiled with TAPE_HAVE_MPI when the build
// found MPI (CMakeLists.txt); without it, start() explains.
//
//===----------------------------------------------------------------------===//

#include "tape/Runtime/Processes.h"

#include <algorithm>
#include <chrono>
#include <climits>
#include <condition_variable>
#include <cstdio>
#include <mutex>
#include <thread>
#include <unistd.h>
#include <cstdlib>
#include <cstring>
#include <vector>

#ifdef TAPE_HAVE_MPI
#include <mpi.h>
#endif

using namespace tape;

/// A thread that ends the process when an armed step outlives its limit.
struct Processes::Watchdog {
  std::mutex mutex;
  std::condition_variable changed;
  double seconds = 0;
  int rank = 0;
  bool armed = false, stopping = false;
  std::string what;
  std::chrono::steady_clock::time_point deadline;
  std::thread thread;

  Watchdog(double seconds, int rank) : seconds(seconds), rank(rank) {
    thread = std::thread([this] { run(); });
  }
  ~Watchdog() {
    {
      std::lock_guard<std::mutex> lock(mutex);
      stopping = true;
    }
    changed.notify_all();
    thread.join();
  }
  void run() {
    std::unique_lock<std::mutex> lock(mutex);
    while (!stopping) {
      if (!armed) {
        changed.wait(lock);
        continue;
      }
      if (changed.wait_until(lock, deadline) == std::cv_status::timeout &&
          armed && !stopping &&
          std::chrono::steady_clock::now() >= deadline) {
        char message[512];
        int n = std::snprintf(
            message, sizeof message,
            "tape-run: process %d: %s has run for %g s (--step-timeout): "
            "another process of the job has stopped answering; ending the "
            "job\n",
            rank, what.c_str(), seconds);
        (void)!::write(STDERR_FILENO, message,
                       std::min<size_t>(size_t(n), sizeof message - 1));
        ::_exit(1);
      }
    }
  }
};

void Processes::setTimeout(double seconds) {
  watchdog.reset();
  if (seconds > 0)
    watchdog = std::make_unique<Watchdog>(seconds, rank_);
}

void Processes::armTimeout(const std::string &what) {
  if (!watchdog)
    return;
  {
    std::lock_guard<std::mutex> lock(watchdog->mutex);
    watchdog->armed = true;
    watchdog->what = what;
    watchdog->deadline =
        std::chrono::steady_clock::now() +
        std::chrono::duration_cast<std::chrono::steady_clock::duration>(
            std::chrono::duration<double>(watchdog->seconds));
  }
  watchdog->changed.notify_all();
}

void Processes::disarmTimeout() {
  if (!watchdog)
    return;
  std::lock_guard<std::mutex> lock(watchdog->mutex);
  watchdog->armed = false;
}

bool Processes::supported() {
#ifdef TAPE_HAVE_MPI
  return true;
#else
  return false;
#endif
}

#ifndef TAPE_HAVE_MPI

Status Processes::start(std::unique_ptr<Processes> &) {
  return Status::error(
      "data-parallel models need MPI, and this tape was built without it: "
      "install it (apt-get install libopenmpi-dev openmpi-bin, as "
      "scripts/setup.sh does) and build again");
}

Processes::~Processes() = default;

void Processes::abort(int code) { std::exit(code); }

Status Processes::checkSameState(const State &) { return Status::success(); }

#else

Status Processes::start(std::unique_ptr<Processes> &out) {
  int initialized = 0;
  MPI_Initialized(&initialized);
  if (initialized)
    return Status::error("MPI is started already (once per program)");
  if (MPI_Init(nullptr, nullptr) != MPI_SUCCESS)
    return Status::error("MPI_Init failed");
  std::unique_ptr<Processes> p(new Processes());
  MPI_Comm_rank(MPI_COMM_WORLD, &p->rank_);
  MPI_Comm_size(MPI_COMM_WORLD, &p->count_);
  out = std::move(p);
  return Status::success();
}

Processes::~Processes() {
  watchdog.reset();
  MPI_Finalize();
}

void Processes::abort(int code) {
  MPI_Abort(MPI_COMM_WORLD, code);
  std::exit(code); // MPI_Abort does not return; in case it does
}

Status Processes::checkSameState(const State &state) {
  // Process 0's bytes, variable by variable (in pieces MPI can count),
  // compared here; then every process learns the first difference: the
  // smallest (variable, rank) that differs.
  long long first = LLONG_MAX;
  std::vector<char> theirs;
  uint64_t steps = state.stepCount;
  MPI_Bcast(&steps, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD);
  long long n = static_cast<long long>(state.size());
  if (steps != state.stepCount)
    first = std::min(first, n * count_ + rank_);
  for (size_t i = 0; i < state.size(); ++i) {
    const Tensor &t = state.variable(i);
    size_t bytes = t.spec().numBytes();
    const char *mine = static_cast<const char *>(t.data());
    if (rank_ == 0) {
      for (size_t at = 0; at < bytes; at += INT_MAX)
        MPI_Bcast(const_cast<char *>(mine) + at,
                  int(std::min<size_t>(INT_MAX, bytes - at)), MPI_BYTE, 0,
                  MPI_COMM_WORLD);
      continue;
    }
    theirs.resize(bytes);
    for (size_t at = 0; at < bytes; at += INT_MAX)
      MPI_Bcast(theirs.data() + at, int(std::min<size_t>(INT_MAX, bytes - at)),
                MPI_BYTE, 0, MPI_COMM_WORLD);
    if (std::memcmp(theirs.data(), mine, bytes))
      first = std::min(first, static_cast<long long>(i) * count_ + rank_);
  }
  long long agreed = LLONG_MAX;
  MPI_Allreduce(&first, &agreed, 1, MPI_LONG_LONG, MPI_MIN, MPI_COMM_WORLD);
  if (agreed == LLONG_MAX)
    return Status::success();
  long long variable = agreed / count_, rank = agreed % count_;
  std::string what =
      variable == n ? std::string("the step count")
                    : "variable '" + state.model().variables()[variable].name +
                          "'";
  return Status::error(
      "the processes' states differ after step " +
      std::to_string(state.stepCount) + ": " + what + " of process " +
      std::to_string(rank) + " is not process 0's (data-parallel training "
      "keeps them bit-identical; did the processes start from different "
      "files?)");
}

#endif
