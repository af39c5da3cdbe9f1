#pragma once
// The engine as every command builds it from a config: the stages of the flow with the
// outputs' encoders and the enrich tables, and the engine's timers from the outputs'
// re-send intervals and the checkpoint interval. `serve` and `replay` both build it here,
// so a replay runs exactly what the daemon runs.

#include <memory>
#include <vector>

#include "plugin/app/registry.hpp"
#include "plugin/engine/engine.hpp"

namespace alertbridge::app {

std::unique_ptr<engine::Engine> buildEngine(const config::Config& config,
                                            telemetry::Metrics& metrics,
                                            const std::vector<OutputDef>& outputs,
                                            std::shared_ptr<const pipeline::TableSnapshots> tables,
                                            bool report_notifications);

}  // namespace alertbridge::app
