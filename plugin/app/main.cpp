#include "plugin/app/cli.hpp"

#ifdef ALERTBRIDGE_WITH_JEMALLOC
// jemalloc reads this at start-up (MALLOC_CONF in the environment still wins). The alert
// index grows by hundreds of bytes per alert, in small pieces, at up to a hundred thousand
// alerts a second: with 4 KiB pages the engine thread spent a fifth of its time in page
// faults. Transparent huge pages for jemalloc's extents (where the kernel allows them:
// `madvise` or `always` in /sys/kernel/mm/transparent_hugepage/enabled) take those
// faults and TLB misses away; they cost about 20 MiB of resident memory at start and
// nothing per alert (README, "Benchmark").
// NOLINTNEXTLINE(cppcoreguidelines-avoid-non-const-global-variables)
extern "C" {
const char* malloc_conf = "thp:always,metadata_thp:auto";
}
#endif

int main(int argc, char** argv) { return alertbridge::app::runCli(argc, argv); }
