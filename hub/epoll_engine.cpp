#include "hub/epoll_engine.hpp"

#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>

#include "hub/high_fd.hpp"

namespace tf::hub {

namespace {

// Everything, once, kept across waits (see the header).
constexpr uint32_t kRegisteredEvents = EPOLLIN | EPOLLOUT | EPOLLPRI | EPOLLRDHUP | EPOLLET;
// What a wait for `mask` is woken by: its own events, the two that poll(2)
// reports whether asked or not, and for a reader the peer's end of writing
// (an EOF to read, even right behind the last bytes).
constexpr uint32_t wakes(uint32_t mask) { return mask | POLLERR | POLLHUP | (mask & POLLIN ? POLLRDHUP : 0); }
// poll(2)'s answer for a file epoll cannot watch (a regular file, /dev/null):
// always ready, as io_uring's POLL_ADD reports it too.
constexpr uint32_t kAlwaysReady = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;

static_assert(EPOLLIN == POLLIN && EPOLLOUT == POLLOUT && EPOLLPRI == POLLPRI && EPOLLERR == POLLERR &&
                  EPOLLHUP == POLLHUP && EPOLLRDHUP == POLLRDHUP,
              "epoll's event bits are poll's, so they are reported as they are");

constexpr size_t kFirstEventBatch = 256;
constexpr size_t kLargestEventBatch = 4096;

}  // namespace

std::unique_ptr<EpollEngine> EpollEngine::make(OpTable& ops, int* error) {
  int epfd = ::epoll_create1(EPOLL_CLOEXEC);
  if (epfd < 0) {
    *error = errno;
    return nullptr;
  }
  return std::unique_ptr<EpollEngine>(new EpollEngine(ops, move_fd_high(epfd)));
}

EpollEngine::EpollEngine(OpTable& ops, int epfd) : ops_(ops), epfd_(epfd), events_(kFirstEventBatch) {
  ready_.reserve(64);
  handing_.reserve(64);
}

EpollEngine::~EpollEngine() { ::close(epfd_); }

int EpollEngine::watch(int fd, uint64_t tag) {
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLET;
  ev.data.u64 = static_cast<uint64_t>(fd);
  if (::epoll_ctl(epfd_, EPOLL_CTL_ADD, fd, &ev) < 0) return -errno;
  watch_fd_ = fd;
  watch_tag_ = tag;
  return 0;
}

EpollEngine::FdRecord* EpollEngine::record(int fd) {
  if (fd < 0) return nullptr;
  if (static_cast<size_t>(fd) >= fds_.size()) fds_.resize(static_cast<size_t>(fd) + 64);
  return &fds_[fd];
}

int EpollEngine::register_fd(int fd, FdRecord& r, uint64_t file_key) {
  epoll_event ev{};
  ev.events = kRegisteredEvents;
  ev.data.u64 = static_cast<uint64_t>(fd);
  // MOD when we registered it before (the common case), ADD when not; the
  // kernel's answer corrects a record that is out of date either way.
  int op = r.registered ? EPOLL_CTL_MOD : EPOLL_CTL_ADD;
  int rc = ::epoll_ctl(epfd_, op, fd, &ev);
  ++registrations_;
  if (rc < 0 && (errno == ENOENT || errno == EEXIST)) {
    rc = ::epoll_ctl(epfd_, op == EPOLL_CTL_MOD ? EPOLL_CTL_ADD : EPOLL_CTL_MOD, fd, &ev);
    ++registrations_;
  }
  if (rc < 0) {
    r.registered = false;
    return errno;
  }
  // Both ADD and MOD make the kernel report what is ready now: the cache
  // would only repeat it.
  r.registered = true;
  r.file_key = file_key;
  r.cached = 0;
  return 0;
}

EpollEngine::FdRecord* EpollEngine::begin_wait(uint64_t name, Operation& op, uint32_t mask) {
  op.poll_mask = mask;
  FdRecord* r = record(op.fd);
  if (!r) {
    complete(name, -EBADF);
    return nullptr;
  }
  if (op.file_key == 0 || r->file_key != op.file_key || !r->registered) {
    int err = register_fd(op.fd, *r, op.file_key);
    if (err == EPERM) {
      // Not pollable: ready at once, as poll(2) says of a regular file. Asked
      // for neither reading nor writing, it never is; the wait stays queued.
      if (uint32_t ready = mask & kAlwaysReady) {
        complete(name, static_cast<int32_t>(ready));
        return nullptr;
      }
    } else if (err) {
      complete(name, -err);
      return nullptr;
    }
  }
  return r;
}

const EpollEngine::FdRecord* EpollEngine::trusted(int fd, uint64_t file_key) const {
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size() || file_key == 0) return nullptr;
  const FdRecord& r = fds_[fd];
  return r.registered && r.file_key == file_key ? &r : nullptr;
}

bool EpollEngine::known_not_ready(int fd, uint32_t mask, uint64_t file_key) const {
  const FdRecord* r = trusted(fd, file_key);
  return r && !(r->cached & wakes(mask));
}

void EpollEngine::note_not_ready(int fd, uint32_t mask, uint64_t file_key) {
  // Only `mask` itself: an end of stream or an error seen with the last
  // bytes is still there to be read.
  if (trusted(fd, file_key)) fds_[fd].cached &= ~mask;
}

void EpollEngine::queue(uint64_t name, Operation& op, FdRecord& r) {
  op.next_on_fd = r.first_op;
  op.queued_on_fd = true;
  r.first_op = name;
}

void EpollEngine::complete(uint64_t name, int32_t res) { ready_.push_back(Completion{name, res, 0}); }

void EpollEngine::start_poll(uint64_t name, Operation& op, uint32_t mask) {
  FdRecord* r = begin_wait(name, op, mask);
  if (!r) return;
  // The caller found the fd not ready just now: what was cached is stale,
  // and whatever came since is still in the kernel's ready list.
  r->cached &= ~wakes(mask);
  queue(name, op, *r);
}

int32_t EpollEngine::accept_now(Operation& op, int flags) {
  // A listener its owner keeps blocking is made non-blocking for this one
  // call: accept4 has no per-call flag for it, and the hub must never block.
  int fl = ::fcntl(op.fd, F_GETFL);
  bool made_nonblocking = fl >= 0 && !(fl & O_NONBLOCK) && ::fcntl(op.fd, F_SETFL, fl | O_NONBLOCK) == 0;
  int fd = ::accept4(op.fd, op.accept_address(), op.accept_length(), flags);
  int err = errno;
  if (made_nonblocking) ::fcntl(op.fd, F_SETFL, fl);
  if (fd >= 0) return fd;
  return -(err == EWOULDBLOCK ? EAGAIN : err);
}

void EpollEngine::start_accept(uint64_t name, Operation& op, int flags) {
  // The caller has not tried (its listener may block): the engine does,
  // when an edge says a connection may be there, until one finds none.
  op.accept_flags = flags;
  FdRecord* r = begin_wait(name, op, POLLIN);
  if (!r) return;
  if (r->cached & wakes(POLLIN)) {
    int32_t res = accept_now(op, flags);
    if (res != -EAGAIN) {
      complete(name, res);
      return;
    }
    r->cached &= ~wakes(POLLIN);
  }
  queue(name, op, *r);
}

bool EpollEngine::cancel(uint64_t name, Operation& op) {
  if (!op.queued_on_fd) return false;  // its completion is on its way in ready_
  FdRecord& r = fds_[op.fd];
  for (uint64_t* link = &r.first_op; *link;) {
    if (*link == name) {
      *link = op.next_on_fd;
      break;
    }
    OpTable::Slot* queued = ops_.find(*link);
    if (!queued) break;  // cannot happen: a queued operation's slot lives
    link = &queued->value.next_on_fd;
  }
  op.queued_on_fd = false;
  op.next_on_fd = 0;
  return true;
}

void EpollEngine::forget_fd(int fd) {
  if (fd < 0 || static_cast<size_t>(fd) >= fds_.size()) return;
  FdRecord& r = fds_[fd];
  // Removed now, while fd still names the file: after the close, a file
  // kept open elsewhere (a dup, a child) would go on reporting under the
  // reused number.
  if (r.registered) ::epoll_ctl(epfd_, EPOLL_CTL_DEL, fd, nullptr);
  for (uint64_t name = r.first_op; name;) {
    OpTable::Slot* slot = ops_.find(name);
    if (!slot) break;
    Operation& op = slot->value;
    name = op.next_on_fd;
    op.queued_on_fd = false;
    op.next_on_fd = 0;
    complete(slot->name(), -EBADF);
  }
  r = FdRecord{};
}

void EpollEngine::on_ready(int fd, uint32_t events) {
  if (fd == watch_fd_) {
    ready_.push_back(Completion{watch_tag_, static_cast<int32_t>(events), kCompletionMore});
    return;
  }
  if (static_cast<size_t>(fd) >= fds_.size() || !fds_[fd].registered) return;
  FdRecord& r = fds_[fd];
  bool listener_drained = false;
  for (uint64_t* link = &r.first_op; *link;) {
    uint64_t name = *link;
    OpTable::Slot* slot = ops_.find(name);
    if (!slot) {  // cannot happen: a queued operation's slot lives
      *link = 0;
      break;
    }
    Operation& op = slot->value;
    uint32_t hit = events & wakes(op.poll_mask);
    bool done = false;
    if (hit && op.kind == OpKind::kAccept) {
      if (!listener_drained) {
        int32_t res = accept_now(op, op.accept_flags);
        if (res == -EAGAIN) {
          listener_drained = true;
        } else {
          complete(name, res);
          done = true;
        }
      }
    } else if (hit) {
      complete(name, static_cast<int32_t>(hit));
      done = true;
    }
    if (done) {
      *link = op.next_on_fd;
      op.queued_on_fd = false;
      op.next_on_fd = 0;
    } else {
      link = &op.next_on_fd;
    }
  }
  // Kept until the owner finds the fd not ready (its next wait, or
  // note_not_ready); an accept that found no connection found just that.
  r.cached |= events;
  if (listener_drained) r.cached &= ~wakes(POLLIN);
}

WaitResult EpollEngine::wait(std::chrono::nanoseconds timeout) {
  if (!ready_.empty()) timeout = std::chrono::nanoseconds{0};
  int n = -1;
  if (have_pwait2_) {
    timespec ts{};
    if (timeout.count() >= 0) {
      ts.tv_sec = static_cast<time_t>(timeout.count() / 1'000'000'000);
      ts.tv_nsec = static_cast<long>(timeout.count() % 1'000'000'000);
    }
    n = ::epoll_pwait2(epfd_, events_.data(), static_cast<int>(events_.size()),
                       timeout.count() >= 0 ? &ts : nullptr, nullptr);
    // Before 5.11, or a seccomp profile that does not know it yet.
    if (n < 0 && (errno == ENOSYS || errno == EPERM)) have_pwait2_ = false;
  }
  if (!have_pwait2_) {
    int ms = -1;
    if (timeout.count() >= 0) {
      // Rounded up: waking before a timer's deadline would only wait again.
      auto rounded = (timeout.count() + 999'999) / 1'000'000;
      ms = rounded > 0x7fffffff ? 0x7fffffff : static_cast<int>(rounded);
    }
    n = ::epoll_wait(epfd_, events_.data(), static_cast<int>(events_.size()), ms);
  }
  if (n < 0) {
    ready_events_ = 0;
    if (errno == EINTR) return WaitResult::kInterrupted;
    last_error_ = errno;
    return WaitResult::kFailed;
  }
  ready_events_ = n;
  return n > 0 || !ready_.empty() ? WaitResult::kReady : WaitResult::kTimedOut;
}

void EpollEngine::drain(CompletionSink& sink) {
  for (int i = 0; i < ready_events_; ++i) {
    on_ready(static_cast<int>(events_[i].data.u64), events_[i].events);
  }
  if (static_cast<size_t>(ready_events_) == events_.size() && events_.size() < kLargestEventBatch) {
    events_.resize(events_.size() * 2);  // a busy loop: take more per turn
  }
  ready_events_ = 0;
  handing_.swap(ready_);
  for (const Completion& c : handing_) sink.on_completion(c);
  handing_.clear();
}

}  // namespace tf::hub
