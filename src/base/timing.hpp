// Per-phase timings on stderr, for profiling a run: with DBAUTOPSY_TIMINGS set (to anything
// but 0), each `timing::phase("name")` prints the wall and CPU time (every thread of the
// process) since the previous one, and the process's peak RSS so far. Without it, a call costs one
// load of a flag.
#pragma once

#include <string>

namespace dbautopsy::timing {

// Whether DBAUTOPSY_TIMINGS asks for timings (read once).
bool enabled();

// Prints `dbautopsy: timing: NAME  wall W ms  cpu C ms  peak RSS R MiB` for the time since the
// previous call. The first call of the process only starts the clock and prints nothing.
void phase(const std::string& name);

}  // namespace dbautopsy::timing
