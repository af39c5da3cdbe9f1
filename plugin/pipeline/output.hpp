#pragma once
// OutputEncoder: the pure half of an output adapter, as the pipeline sees it. It turns
// alerts into the request body its transport will send. Called on the pipeline thread;
// implementations must be stateless or immutable.

#include <cstdint>
#include <string>
#include <vector>

#include "plugin/core/alert.hpp"
#include "plugin/core/notification.hpp"
#include "plugin/state/store.hpp"

namespace alertbridge::pipeline {

// State sinks (Alertmanager, Nightingale) hold a copy of the alerts: they are shown every
// change, re-sent what they must not forget, and a pending push may be replaced by a newer
// state of the same alert. Notification sinks (webhooks, later IM and mail) tell people:
// each notification goes once, in order, and nothing is re-sent or replaced.
enum class OutputKind : std::uint8_t { kState, kNotification };

class OutputEncoder {
  public:
    virtual ~OutputEncoder() = default;
    virtual const std::string& name() const = 0;
    virtual OutputKind kind() const { return OutputKind::kState; }
    // With a noise section, what a state sink is shown besides the alerts: one alert per
    // incident, and whether the member alerts are shown at all (pipeline/incident/publish).
    virtual bool showsIncidents() const { return false; }
    virtual bool showsMembers() const { return true; }
    // Whether resolutions are news for this output (a webhook's send_resolved).
    virtual bool sendsResolved() const { return true; }
    virtual std::size_t maxAlertsPerRow() const = 0;
    std::string encode(const std::vector<const core::Alert*>& alerts) const {
        return encode(alerts, nullptr);
    }
    // With `keys`, also appends one key per element of the body (its identity at the host
    // and its bytes), in body order. A body with more than one element is a JSON array of
    // them, so a backlog can rebuild it from the elements no newer row replaces.
    virtual std::string encode(const std::vector<const core::Alert*>& alerts,
                               std::vector<state::OutboxKey>* keys) const = 0;
    // The body of one message to people (a page, an update, a digest, ...). A notification
    // sink says which incident and why; by default the alerts alone.
    virtual std::string encodeMessage(const core::Notification& /*message*/,
                                      const std::vector<const core::Alert*>& alerts) const {
        return encode(alerts);
    }
    // Whether the host can take this alert at all (an older Alertmanager refuses a whole
    // push for one UTF-8 label name). An alert it cannot take is left out of its pushes;
    // returns the offending detail, or "" when it can.
    virtual std::string refuses(const core::Alert&) const { return ""; }
};

}  // namespace alertbridge::pipeline

#include "plugin/core/delivery.hpp"

namespace alertbridge::pipeline {

// OutputTransport: the I/O half of an output adapter. send() delivers one or more stored
// request bodies (as one request where the protocol allows, else in turn) and blocks the
// calling delivery worker until the host answered or the timeout passed. One worker per
// output calls it.
class OutputTransport {
  public:
    virtual ~OutputTransport() = default;
    // Most rows the transport can merge into one request; 1 means no merging.
    virtual std::size_t maxRowsPerSend() const = 0;
    virtual core::Delivery send(const std::vector<std::string_view>& bodies,
                                core::TimePoint now) = 0;
};

}  // namespace alertbridge::pipeline
