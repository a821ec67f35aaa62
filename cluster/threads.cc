#include "cluster/threads.h"

#include <ATen/Parallel.h>
#include <sched.h>

#include <algorithm>
#include <thread>

namespace metarm {

int MachineCores() { return std::max(1u, std::thread::hardware_concurrency()); }

int AffinityCores() {
  cpu_set_t set;
  CPU_ZERO(&set);
  if (sched_getaffinity(0, sizeof(set), &set) != 0) return MachineCores();
  return std::max(1, CPU_COUNT(&set));
}

int ThreadsPerRank(int machine_cores, int affinity_cores, int ranks_on_node) {
  if (affinity_cores < machine_cores) return std::max(1, affinity_cores);
  return std::max(1, machine_cores / std::max(1, ranks_on_node));
}

void SetTorchThreads(int threads) {
  at::set_num_threads(threads);
  // Inter-op parallelism can only be set once, before any parallel work;
  // 1 keeps each rank's thread count what ThreadsPerRank said.
  at::set_num_interop_threads(1);
}

}  // namespace metarm
