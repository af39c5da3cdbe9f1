#include "plugin/app/ack_pacer.hpp"

namespace alertbridge::app {

bool AckPacer::answer(bool behind, Answer a) {
    std::unique_lock lock(mu_);
    if (behind) {
        held_.push_back(std::move(a));
        setCount(held_.size());
        return true;
    }
    if (held_.empty()) {
        lock.unlock();
        a();
        return false;
    }
    // Caught up, with older answers held still: they go first, this one after them.
    held_.push_back(std::move(a));
    setCount(held_.size());
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
        setCount(0);
    }
    for (auto& a : now) a();
}

void AckPacer::answerAll() { resume(false); }

void AckPacer::setCount(std::size_t n) {
    count_.store(n, std::memory_order_release);
    if (observer_) observer_(n);
}

}  // namespace alertbridge::app
