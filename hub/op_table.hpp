// Operation slots: the heap home of every operation in flight, on either
// engine (an SQE on io_uring, a queued wait on epoll). "CQE" below is the
// operation's completion, whichever engine reports it.
//
// Lifetime rules (the whole reason this file exists):
//  * An operation's name is its slot name (SlotPool), used as user_data:
//    never 0, and a recycled slot gets a new name.
//  * Everything the kernel may read or write for the operation (an accept's
//    sockaddr, a pinned buffer) lives in the slot or in memory the slot
//    owns, never on a greenlet's stack: greenlet copies stacks away on every
//    switch. A slot is small (a poll needs nothing else; there is one per
//    parked connection): an accept's address is a block of its own.
//  * A slot is reusable only after its last expected CQE has arrived. A
//    waiter that gives up marks it abandoned; the slot stays put until the
//    kernel is done with it.
//  * A CQE whose user_data names an older generation is dropped.
#pragma once

#include <sys/socket.h>

#include <cstdint>
#include <memory>

#include "hub/slot_pool.hpp"

namespace tf::hub {

enum class OpState : uint8_t { kInFlight, kAbandoned };

// What an operation is, for the few kinds whose late completion carries a
// resource that must not be lost (an accepted connection).
enum class OpKind : uint8_t { kPoll, kAccept, kOther };

// Memory owned by a caller of the hub (e.g. a held Py_buffer) that must stay
// alive until the operation's last CQE. `release` runs from the loop.
struct HeldMemory {
  void* object = nullptr;
  void (*release)(void*) = nullptr;
};

// Where the kernel writes an accepted connection's peer address.
struct AcceptAddress {
  sockaddr_storage address{};
  socklen_t length = 0;
};

struct Operation {
  OpState state = OpState::kInFlight;
  OpKind kind = OpKind::kOther;
  int fd = -1;  // the fd the operation works on
  uint8_t cqes_expected = 1;  // CQEs still to come before the slot is reusable
  bool multishot = false;
  // The epoll engine's bookkeeping: queued on its fd's list of waiting
  // operations (through next_on_fd, a slot name) for the events in poll_mask.
  bool queued_on_fd = false;
  uint32_t poll_mask = 0;
  int accept_flags = 0;
  uint64_t next_on_fd = 0;
  // Who owns the fd, as the caller names it (e.g. its socket object), or 0
  // when nobody tells the hub before the fd is closed (see Loop::start_poll).
  uint64_t file_key = 0;
  uint64_t owner = 0;  // the upper layer's token for the waiter; 0 = nobody waits
  HeldMemory held;
  // An accept's: made by Loop::start_accept, freed with the slot. Null for
  // other kinds, or when it could not be allocated (the peer address is
  // then not asked for: accept(2) takes a null address).
  std::unique_ptr<AcceptAddress> accepted;

  // Prepares *accepted for the kernel; the arguments accept(2) takes.
  sockaddr* accept_address() {
    if (!accepted) return nullptr;
    accepted->length = sizeof accepted->address;
    return reinterpret_cast<sockaddr*>(&accepted->address);
  }
  socklen_t* accept_length() { return accepted ? &accepted->length : nullptr; }
};

class OpTable {
 public:
  using Slot = SlotPool<Operation>::Slot;

  // A fresh operation in flight, expecting one CQE.
  Slot& acquire(uint64_t owner) {
    Slot& s = pool_.acquire();
    s.value.owner = owner;
    return s;
  }
  // The live operation named by user_data, or nullptr when stale or foreign.
  Slot* find(uint64_t user_data) { return pool_.find(user_data); }
  // Frees the slot; held memory is released here, i.e. from the loop.
  void release(Slot& s) {
    HeldMemory held = s.value.held;
    pool_.release(s);
    if (held.release) held.release(held.object);
  }
  size_t in_use() const { return pool_.live(); }

 private:
  SlotPool<Operation> pool_;
};

}  // namespace tf::hub
