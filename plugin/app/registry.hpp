#pragma once
// The explicit registries of inputs and outputs: one line per adapter, no self-registering
// statics. An input turns a request body into alerts; an output is an encoder (pure) plus
// a transport (I/O). Both intake and journal replay decode through the same table.

#include <functional>
#include <memory>
#include <string_view>
#include <vector>

#include "plugin/config/config.hpp"
#include "plugin/core/alert.hpp"
#include "plugin/core/result.hpp"
#include "plugin/pipeline/output.hpp"

namespace alertbridge::email {
class RuleSet;
}

namespace alertbridge::app {

// What decoders may read: the config and what was compiled from it.
struct DecodeContext {
    const config::Config& config;
    const email::RuleSet& email_rules;
};

using Decoder = std::function<core::Result<core::Decoded>(
    std::string_view body, core::TimePoint received_at, const DecodeContext& ctx)>;

// Returns the body as it may be journaled (personal data removed), or an error.
using Scrubber = std::function<core::Result<std::string>(std::string_view body)>;

struct InputDef {
    std::string_view id;    // journal and metric name
    std::string_view path;  // HTTP path it is served on
    Decoder decode;
    Scrubber scrub;  // empty: the body is journaled as received
    // Whether a body with rejected alerts is answered 400 (Alertmanager's API) rather than
    // 200 with the list (webhooks, whose senders never retry a 4xx).
    bool partial_is_client_error = false;
};

const std::vector<InputDef>& inputs();
const InputDef* findInput(std::string_view id);

struct OutputDef {
    std::string name;
    std::shared_ptr<const pipeline::OutputEncoder> encoder;
    std::function<std::unique_ptr<pipeline::OutputTransport>()> transport;
    std::size_t max_alerts_per_send;
    config::Backoff backoff;
    core::Duration resend_interval;
    std::size_t max_backlog_bytes;
};

// Every output configured in `cfg`, in config order.
std::vector<OutputDef> outputs(const config::Config& cfg);

// Removes alerts that carry this instance's marker label (the loop guard). Returns how
// many were removed.
std::size_t dropOwnMarker(core::AlertBatch& batch, const config::GlobalConfig& global);

}  // namespace alertbridge::app
