#include "plugin/app/task_thread.hpp"

#include <pthread.h>

namespace alertbridge::app {

TaskThread::TaskThread(std::string name, std::size_t max_queued) : max_queued_(max_queued) {
    thread_ = std::thread([this, name = std::move(name)] {
        pthread_setname_np(pthread_self(), name.substr(0, 15).c_str());
        loop();
    });
}

TaskThread::~TaskThread() { stop(); }

bool TaskThread::post(std::function<void()> task) {
    {
        std::lock_guard lock(mu_);
        if (stopping_ || tasks_.size() >= max_queued_) return false;
        tasks_.push_back(std::move(task));
    }
    cv_.notify_one();
    return true;
}

void TaskThread::stop() {
    {
        std::lock_guard lock(mu_);
        stopping_ = true;
    }
    cv_.notify_all();
    if (thread_.joinable()) thread_.join();
}

void TaskThread::loop() {
    for (;;) {
        std::function<void()> task;
        {
            std::unique_lock lock(mu_);
            cv_.wait(lock, [this] { return stopping_ || !tasks_.empty(); });
            if (tasks_.empty()) return;
            task = std::move(tasks_.front());
            tasks_.pop_front();
        }
        task();
    }
}

}  // namespace alertbridge::app
