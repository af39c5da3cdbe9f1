#include "plugin/app/ack_pacer.hpp"

namespace alertbridge::app {

bool AckPacer::answer(bool behind, Answer a) {
    std::unique_lock lock(mu_);
    if (behind) {
        held_.push_back(std::move(a));
        count_.store(held_.size(), std::memory_order_release);
        return true;
    }
    if (held_.empty()) {
        lock.unlock();
        a();
        return false;
    }
    // Caught up, with older answers held still: they go first, this one after them.
    held_.push_back(std::move(a));
    count_.store(held_.size(), std::memory_order_release);
    lock.unlock();
    resume(false);
    return false;
}

void AckPacer::resume(bool behind) {
    if (behind) return;
    std::deque<Answer> now;
    {
        std::lock_guard lock(mu_);
        now.swap(held_);
        count_.store(0, std::memory_order_release);
    }
    for (auto& a : now) a();
}

void AckPacer::answerAll() { resume(false); }

}  // namespace alertbridge::app
