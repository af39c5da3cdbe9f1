#pragma once
// AckPacer: slows senders down before refusing them. A request is acknowledged once it is
// durable, but when the engine is behind (the intake queue past its soft mark, a sixteenth
// of its bounds) the acknowledgement is held until the engine has caught up. Senders such
// as Alertmanager post again only after an answer, so holding answers slows them to the
// engine's pace; refusing them (503 at the hard bound) makes them parse and send the same
// alerts again, which costs the very CPU the engine lacks. A held request is stored
// already: nothing is lost by holding it, and it is answered in the order it arrived.
//
// Safe from any thread. The owner calls resume() after every release of the queue; a
// request held just after a release has still its own entry in the queue, whose release
// comes later and resumes it.
//
// The held count goes to the observer under the pacer's lock, before any answer it
// releases is given: a sender that has its answer and then reads the gauge sees the
// count without its own request, and two threads cannot leave a stale count behind.

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <utility>

namespace alertbridge::app {

class AckPacer {
  public:
    using Answer = std::function<void()>;
    using Observer = std::function<void(std::size_t held)>;
    AckPacer() = default;
    explicit AckPacer(Observer observer) : observer_(std::move(observer)) {}
    // Answers at once (after any older answers held still), or holds it when `behind`.
    // Returns true when it held the answer.
    bool answer(bool behind, Answer a);
    // When no longer `behind`, answers everything held, oldest first.
    void resume(bool behind);
    // Answers everything held (at shutdown: the requests are stored).
    void answerAll();
    // Answers held now. Read without the lock: the owner asks on every release of the
    // queue, and nearly always the answer is none.
    std::size_t held() const { return count_.load(std::memory_order_acquire); }

  private:
    void setCount(std::size_t n);  // under mu_

    Observer observer_;
    std::mutex mu_;
    std::deque<Answer> held_;
    std::atomic<std::size_t> count_{0};  // held_.size(), written under mu_
};

}  // namespace alertbridge::app
