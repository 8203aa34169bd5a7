#include "hub/backend.hpp"

#include <atomic>
#include <cerrno>
#include <cstring>

#include "hub/epoll_engine.hpp"
#include "hub/uring_engine.hpp"

namespace tf::hub {

namespace {

std::atomic<Backend> g_preference{Backend::kAuto};
// What kAuto came to: kAuto until the first ring was tried.
std::atomic<Backend> g_decided{Backend::kAuto};

constexpr unsigned kProbeEntries = 4;

}  // namespace

const char* backend_name(Backend b) {
  switch (b) {
    case Backend::kIoUring:
      return "io_uring";
    case Backend::kEpoll:
      return "epoll";
    case Backend::kAuto:
      break;
  }
  return "auto";
}

bool parse_backend(const char* text, Backend* out) {
  if (!text || !*text || std::strcmp(text, "auto") == 0) {
    *out = Backend::kAuto;
  } else if (std::strcmp(text, "io_uring") == 0) {
    *out = Backend::kIoUring;
  } else if (std::strcmp(text, "epoll") == 0) {
    *out = Backend::kEpoll;
  } else {
    return false;
  }
  return true;
}

void set_backend_preference(Backend b) { g_preference = b; }
Backend backend_preference() { return g_preference; }

int resolve_backend(Backend* out) {
  Backend pref = g_preference;
  if (pref == Backend::kEpoll) {
    *out = Backend::kEpoll;
    return 0;
  }
  Backend decided = g_decided;
  if (pref == Backend::kAuto && decided != Backend::kAuto) {
    *out = decided;
    return 0;
  }
  int error = 0;
  std::unique_ptr<Ring> probe = Ring::make(kProbeEntries, &error);
  if (!probe && pref == Backend::kIoUring) return error;
  if (pref == Backend::kAuto) g_decided = probe ? Backend::kIoUring : Backend::kEpoll;
  *out = probe ? Backend::kIoUring : Backend::kEpoll;
  return 0;
}

std::unique_ptr<Engine> make_engine(Backend wanted, unsigned entries, OpTable& ops, int* error) {
  if (wanted == Backend::kAuto) wanted = g_preference;
  bool automatic = wanted == Backend::kAuto;
  if (automatic) wanted = g_decided == Backend::kEpoll ? Backend::kEpoll : Backend::kIoUring;
  if (wanted == Backend::kIoUring) {
    int ring_error = 0;
    std::unique_ptr<Engine> ring = UringEngine::make(entries, &ring_error);
    if (ring) {
      if (automatic) g_decided = Backend::kIoUring;
      return ring;
    }
    if (!automatic) {
      *error = ring_error;
      return nullptr;
    }
    // Refused: epoll from now on. EMFILE/ENFILE say nothing about io_uring
    // (epoll will most likely be refused the same fd), so they decide nothing.
    if (ring_error != EMFILE && ring_error != ENFILE) g_decided = Backend::kEpoll;
  }
  return EpollEngine::make(ops, error);
}

}  // namespace tf::hub
