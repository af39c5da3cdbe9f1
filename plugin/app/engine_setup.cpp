#include "plugin/app/engine_setup.hpp"

namespace alertbridge::app {

std::unique_ptr<engine::Engine> buildEngine(const config::Config& config,
                                            telemetry::Metrics& metrics,
                                            const std::vector<OutputDef>& outputs,
                                            std::shared_ptr<const pipeline::TableSnapshots> tables,
                                            bool report_notifications) {
    std::vector<std::shared_ptr<const pipeline::OutputEncoder>> encoders;
    engine::EngineOptions options;
    for (const auto& o : outputs) {
        encoders.push_back(o.encoder);
        options.resend_intervals.push_back(o.resend_interval);
    }
    options.checkpoint_interval = config.storage.checkpoint_interval;
    options.report_notifications = report_notifications;
    return std::make_unique<engine::Engine>(
        std::make_unique<pipeline::Pipeline>(config, metrics, std::move(encoders),
                                             std::move(tables)),
        std::move(options));
}

}  // namespace alertbridge::app
