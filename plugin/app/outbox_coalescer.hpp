#pragma once
// OutboxCoalescer: what a delivery worker leaves out of its backlog. It knows, for every
// element key of the output's pending rows, the newest row that holds it; an element of an
// older row is superseded (the host only needs the newest state of an alert), so a row is
// sent without it, or completed unsent when nothing of it is left. After an outage, ten
// queued changes of one alert go out as one. Pure bookkeeping: the worker feeds it the keys
// it reads from the store, in id order, and tells it which rows are finished. Not
// thread-safe; owned by one worker.

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "plugin/state/store.hpp"

namespace alertbridge::app {

struct SendPlan {
    std::vector<long long> superseded_ids;  // rows with nothing left: complete them unsent
    std::vector<long long> send_ids;        // rows in the request
    // Their bodies: views of the rows' bodies, or of `rebuilt` where elements were left out.
    std::vector<std::string_view> bodies;
    std::deque<std::string> rebuilt;
    std::size_t alerts = 0;           // alerts in the request
    std::size_t left_out_unsent = 0;  // elements of the superseded rows
    std::size_t left_out_sent = 0;    // elements left out of the rows in the request
};

class OutboxCoalescer {
  public:
    // Pending rows with a higher id than any seen so far, in id order.
    void add(const std::vector<state::PendingKeys>& rows);
    long long scannedTo() const { return scanned_; }
    // Takes rows (oldest first; the plan holds views of their bodies) while the alerts stay within
    // `max_alerts` (at least one row with something to send, when there is one).
    SendPlan plan(const std::vector<state::OutboxRow>& rows, std::size_t max_alerts) const;
    // Rows that are no longer pending.
    void finished(const std::vector<state::OutboxRow>& rows, const std::vector<long long>& ids);
    std::size_t tracked() const { return newest_.size(); }

  private:
    bool superseded(const state::OutboxRow& row, const state::OutboxKey& k) const;
    std::unordered_map<std::uint64_t, long long> newest_;
    long long scanned_ = 0;
};

}  // namespace alertbridge::app
