// Wake-ups from other OS threads: a locked queue plus one eventfd that the
// hub's ring watches. post() is the only member other threads may call.
// The eventfd is written only when the queue goes from empty to non-empty,
// so a burst of posts costs one write and one wake-up. The eventfd is made
// on first use.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

namespace tf::hub {

struct WakeupItem {
  void (*run)(void* arg) = nullptr;
  void* arg = nullptr;
};

class WakeupQueue {
 public:
  WakeupQueue();
  ~WakeupQueue();
  WakeupQueue(const WakeupQueue&) = delete;
  WakeupQueue& operator=(const WakeupQueue&) = delete;

  // Thread-safe.
  void post(WakeupItem item);

  // The eventfd, made on first use (by post() or by the ring that watches it).
  int eventfd();
  // Owner thread: clears the eventfd and takes every queued item.
  std::vector<WakeupItem> take_all();
  bool empty();

 private:
  int eventfd_locked();  // with mu_ held
  int efd_ = -1;          // written once, under mu_
  std::mutex mu_;
  std::vector<WakeupItem> items_;
};

}  // namespace tf::hub
