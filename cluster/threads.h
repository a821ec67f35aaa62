// How many LibTorch threads each rank uses, so that ranks sharing a node do
// not fight over its cores.
//
//   int threads = ThreadsPerRank(AvailableCores(), AffinityCores(),
//   ranks_here); SetTorchThreads(threads);
#ifndef METARM_CLUSTER_THREADS_H_
#define METARM_CLUSTER_THREADS_H_

namespace metarm {

// Cores of the machine (std::thread::hardware_concurrency, at least 1).
int MachineCores();

// Cores this process may run on (sched_getaffinity), at least 1.
int AffinityCores();

// Threads for one of `ranks_on_node` ranks. When the launcher bound the rank
// to a subset of the cores (affinity < machine), the rank owns that subset
// and uses all of it; otherwise the node's cores are shared evenly. At least 1.
int ThreadsPerRank(int machine_cores, int affinity_cores, int ranks_on_node);

// Sets LibTorch's intra-op threads to `threads` and inter-op threads to 1.
// Call once, before any LibTorch work.
void SetTorchThreads(int threads);

}  // namespace metarm

#endif  // METARM_CLUSTER_THREADS_H_
