#pragma once
// TaskThread: one thread that runs posted tasks in order, for work that may block (store
// reads for the HTTP API) and so must not run on an HTTP I/O thread. The queue is bounded:
// post() refuses a task when it is full, and the caller answers 503. Thread-safe.

#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <mutex>
#include <string>
#include <thread>

namespace alertbridge::app {

class TaskThread {
  public:
    TaskThread(std::string name, std::size_t max_queued);
    ~TaskThread();
    TaskThread(const TaskThread&) = delete;
    TaskThread& operator=(const TaskThread&) = delete;

    // Queues a task; false when the queue is full or the thread is stopping.
    bool post(std::function<void()> task);
    // Runs what is queued, then joins.
    void stop();

  private:
    void loop();

    std::size_t max_queued_;
    std::mutex mu_;
    std::condition_variable cv_;
    std::deque<std::function<void()>> tasks_;
    bool stopping_ = false;
    std::thread thread_;
};

}  // namespace alertbridge::app
