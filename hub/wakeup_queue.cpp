#include "hub/wakeup_queue.hpp"

#include "hub/ring.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace tf::hub {

WakeupQueue::WakeupQueue() = default;

int WakeupQueue::eventfd_locked() {
  if (efd_ < 0) {
    int fd = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (fd < 0) throw std::system_error(errno, std::generic_category(), "eventfd");
    efd_ = move_fd_high(fd);
  }
  return efd_;
}

int WakeupQueue::eventfd() {
  std::lock_guard<std::mutex> lock(mu_);
  return eventfd_locked();
}

WakeupQueue::~WakeupQueue() {
  if (efd_ >= 0) ::close(efd_);
}

void WakeupQueue::post(WakeupItem item) {
  bool was_empty;
  int fd;
  {
    std::lock_guard<std::mutex> lock(mu_);
    fd = eventfd_locked();
    was_empty = items_.empty();
    items_.push_back(item);
  }
  if (was_empty) {
    uint64_t one = 1;
    // EAGAIN means the counter is saturated: a wake-up is pending anyway.
    while (::write(fd, &one, sizeof one) < 0 && errno == EINTR) {
    }
  }
}

std::vector<WakeupItem> WakeupQueue::take_all() {
  uint64_t count;
  int fd = eventfd();
  while (::read(fd, &count, sizeof count) < 0 && errno == EINTR) {
  }
  std::vector<WakeupItem> out;
  std::lock_guard<std::mutex> lock(mu_);
  out.swap(items_);
  return out;
}

bool WakeupQueue::empty() {
  std::lock_guard<std::mutex> lock(mu_);
  return items_.empty();
}

}  // namespace tf::hub
