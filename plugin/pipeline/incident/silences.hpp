#pragma once
// Silences: the set the silences API changes, with Alertmanager's rules for a change
// (api/v2 and silence.Set in 0.25): a post without an id creates a silence; a post with the
// id of a silence updates it in place only while the matchers are the same, an active one
// keeps its start and a pending one does not start in the past; otherwise the old silence
// expires and a new one takes its place under a new id. A start in the past becomes now.
// Expired silences are kept for kRetention, then forgotten.
//
// Pure and deterministic: `now` and the id of a silence to create are inputs (the journal
// holds both), so a restore that applies the same change gets the same answer.

#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "plugin/core/silence.hpp"

namespace alertbridge::pipeline::incident {

// The answer to a change: the silence's id, or an HTTP status with Alertmanager's text.
struct SilenceOutcome {
    int status = 200;
    std::string id;
    std::string error;
    bool ok() const { return status == 200; }
};

// One change as the journal holds it.
struct SilenceChange {
    enum class Op : std::uint8_t { kSet, kExpire };
    Op op = Op::kSet;
    core::Silence silence;  // kSet: as posted (an id: update that silence)
    std::string new_id;     // kSet: the id of the silence it creates, if it creates one
    std::string id;         // kExpire
};

class Silences {
  public:
    static constexpr auto kRetention = std::chrono::hours(120);

    // `new_id` names the silence if one is created.
    SilenceOutcome set(core::Silence s, const std::string& new_id, core::TimePoint now);
    SilenceOutcome expire(const std::string& id, core::TimePoint now);

    const std::map<std::string, core::Silence>& all() const { return by_id_; }
    const core::Silence* find(const std::string& id) const;
    // The first active silence (by id) that mutes these labels ("" when none).
    std::string mutedBy(const core::LabelSet& labels, core::TimePoint now) const;
    // The next instant after `now` at which a silence starts or ends.
    std::optional<core::TimePoint> nextEdge(core::TimePoint now) const;
    // Forgets silences that ended more than kRetention before `now`.
    void collect(core::TimePoint now);
    bool empty() const { return by_id_.empty(); }

    // As a JSON array, and back (false: unreadable; the set is then empty).
    std::string save() const;
    bool load(std::string_view json);

  private:
    std::map<std::string, core::Silence> by_id_;
};

}  // namespace alertbridge::pipeline::incident
