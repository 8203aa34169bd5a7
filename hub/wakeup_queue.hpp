// Wake-ups from other OS threads: a locked queue plus one eventfd that the
// hub's engine watches. post() is the only member other threads may call.
// The eventfd is written only when the queue goes from empty to non-empty,
// so a burst of posts costs one write and one wake-up. The eventfd is made
// by open(), when the loop makes its engine; items posted before that wait
// in the queue and are announced then.
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

  // Thread-safe; never fails.
  void post(WakeupItem item);

  // Owner thread: the eventfd, made now if it is not yet; -errno when it
  // cannot be made (EMFILE, ENOMEM).
  int open();
  // Owner thread: clears the eventfd and takes every queued item.
  std::vector<WakeupItem> take_all();
  bool empty();

 private:
  int efd_ = -1;  // written under mu_
  std::mutex mu_;
  std::vector<WakeupItem> items_;
};

}  // namespace tf::hub
