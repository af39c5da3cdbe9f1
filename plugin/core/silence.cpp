#include "plugin/core/silence.hpp"

namespace alertbridge::core {

std::string_view silenceStateName(SilenceState s) {
    switch (s) {
        case SilenceState::kPending:
            return "pending";
        case SilenceState::kActive:
            return "active";
        case SilenceState::kExpired:
            return "expired";
    }
    return "expired";
}

bool sameMatchers(const Silence& a, const Silence& b) {
    if (a.matchers.size() != b.matchers.size()) return false;
    for (std::size_t i = 0; i < a.matchers.size(); ++i) {
        const auto& x = a.matchers[i];
        const auto& y = b.matchers[i];
        if (x.name() != y.name() || x.op() != y.op() || x.value() != y.value()) return false;
    }
    return true;
}

}  // namespace alertbridge::core
