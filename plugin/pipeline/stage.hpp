#pragma once
// Stage: one step of the flow in ARCHITECTURE.md, a function of (batch, context) -> batch.
// Stages do no I/O: what they change in durable state goes into ctx.delta, which the runner
// hands to the store. All stages run on the pipeline thread; none needs a lock.

#include <string_view>

#include "plugin/config/config.hpp"
#include "plugin/core/alert.hpp"
#include "plugin/core/notification.hpp"
#include "plugin/state/store.hpp"

namespace alertbridge::pipeline {

struct Context {
    core::TimePoint now;
    state::StateDelta& delta;
    // Where the deliver stage tells what it queued (null: no one asks).
    std::vector<core::Notification>* notifications = nullptr;
};

class Stage {
  public:
    virtual ~Stage() = default;
    virtual std::string_view name() const = 0;
    // Transforms `batch` in place: may change, drop or add alerts.
    virtual void run(core::AlertBatch& batch, Context& ctx) = 0;
};

}  // namespace alertbridge::pipeline
