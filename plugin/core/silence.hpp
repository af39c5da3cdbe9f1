#pragma once
// Silence: a person's "do not tell anyone about alerts like these until then", as
// Alertmanager's API v2 defines it: matchers that must all match, a start and an end. It is
// pending before its start, active until its end and expired after; expiring one early moves
// its end to that instant (it is kept, so the UI can show it, and is forgotten days later).

#include <string>
#include <string_view>
#include <vector>

#include "plugin/core/clock.hpp"
#include "plugin/core/matcher.hpp"

namespace alertbridge::core {

enum class SilenceState : std::uint8_t { kPending, kActive, kExpired };
std::string_view silenceStateName(SilenceState s);

struct Silence {
    std::string id;  // a UUID, as Alertmanager's
    std::vector<Matcher> matchers;
    TimePoint starts_at{};
    TimePoint ends_at{};
    TimePoint updated_at{};
    std::string created_by;
    std::string comment;

    SilenceState stateAt(TimePoint now) const {
        if (now >= ends_at) return SilenceState::kExpired;
        return now < starts_at ? SilenceState::kPending : SilenceState::kActive;
    }
    bool mutes(const LabelSet& labels, TimePoint now) const {
        return stateAt(now) == SilenceState::kActive && matchesAll(matchers, labels);
    }
};

// Same matchers in the same order (name, operator and value).
bool sameMatchers(const Silence& a, const Silence& b);

}  // namespace alertbridge::core
