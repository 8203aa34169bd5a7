#include "hub/wakeup_queue.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>

#include "hub/high_fd.hpp"

namespace tf::hub {

namespace {

void signal_eventfd(int fd) {
  uint64_t one = 1;
  // EAGAIN means the counter is saturated: a wake-up is pending anyway.
  while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
  }
}

}  // namespace

WakeupQueue::WakeupQueue() = default;

WakeupQueue::~WakeupQueue() {
  if (efd_ >= 0) ::close(efd_);
}

int WakeupQueue::open() {
  std::lock_guard<std::mutex> lock(mu_);
  if (efd_ < 0) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) return -errno;
    efd_ = move_fd_high(fd);
    if (!items_.empty()) signal_eventfd(efd_);  // posted before anyone watched
  }
  return efd_;
}

void WakeupQueue::post(WakeupItem item) {
  bool was_empty;
  int fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = efd_;
    was_empty = items_.empty();
    items_.push_back(item);
  }
  if (was_empty && fd >= 0) signal_eventfd(fd);
}

std::vector<WakeupItem> WakeupQueue::take_all() {
  std::vector<WakeupItem> out;
  std::lock_guard<std::mutex> lock(mu_);
  if (efd_ >= 0) {
    uint64_t count;
    while (::read(efd_, &count, sizeof count) < 0 && errno == EINTR) {
    }
  }
  out.swap(items_);
  return out;
}

bool WakeupQueue::empty() {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.empty();
}

}  // namespace tf::hub
