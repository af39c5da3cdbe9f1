#pragma once
// `alertbridge replay`: a recorded alert stream through exactly the engine `serve` runs (the
// same config, stages, tables and timers, built by buildEngine()), on a simulated clock,
// with no sockets and the state in memory. Each trace line is posted as if to
// POST /api/v2/alerts at start + t; the engine is advanced to each post's time first, so
// endsAt expiry and every other timer fire where they would have. --out gets one JSON line
// per notification. The same trace and config give the same bytes every time.

#include <string>

namespace alertbridge::app {

struct ReplayCommand {
    std::string config_file;
    std::string start;      // RFC 3339: the trace's origin (t = 0)
    std::string out;        // empty: only the summary
    std::string trace;      // JSON lines: {"t": seconds, "alert": postable alert, ...}
    std::string incidents;  // empty: not written; else one JSON line per incident
};

int replayCommand(const ReplayCommand& cmd);

}  // namespace alertbridge::app
