#include "plugin/engine/timers.hpp"

namespace alertbridge::engine {

void Timers::set(TimerKey key, core::TimePoint at) {
    auto [it, added] = at_.try_emplace(key, at);
    if (!added) {
        queue_.erase({it->second, key});
        it->second = at;
    }
    queue_.emplace(at, key);
}

void Timers::cancel(TimerKey key) {
    auto it = at_.find(key);
    if (it == at_.end()) return;
    queue_.erase({it->second, key});
    at_.erase(it);
}

std::optional<core::TimePoint> Timers::deadline(TimerKey key) const {
    auto it = at_.find(key);
    if (it == at_.end()) return std::nullopt;
    return it->second;
}

std::optional<core::TimePoint> Timers::next() const {
    if (queue_.empty()) return std::nullopt;
    return queue_.begin()->first;
}

std::optional<std::pair<core::TimePoint, TimerKey>> Timers::popDue(core::TimePoint now) {
    if (queue_.empty() || queue_.begin()->first > now) return std::nullopt;
    auto first = *queue_.begin();
    at_.erase(first.second);
    queue_.erase(queue_.begin());
    return first;
}

}  // namespace alertbridge::engine
