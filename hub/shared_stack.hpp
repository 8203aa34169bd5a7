// SharedStack: coroutines that take turns on one region of the C stack.
//
// A coroutine runs just below a fixed address (the base) of the thread's own
// stack; when it suspends, the bytes it uses (its frames, down to the
// registers the switch pushed) are copied to the heap, and copied back to the
// same addresses when it is resumed. Only the resumer (the hub's loop, running
// above the base) switches into a coroutine, and a coroutine only switches
// back to its resumer: one switch, one copy each way, no stack per coroutine.
// A parked coroutine costs the bytes it had in use, not a stack.
//
// x86-64 System V only (the machine kind this project targets).
#pragma once

#include <cstddef>
#include <cstdint>

namespace tf::hub {

// What a suspended coroutine keeps: its stack pointer and its bytes.
struct SavedStack {
  void* sp = nullptr;        // its top once copied back (the switch's saved registers)
  char* bytes = nullptr;     // heap copy of [sp, base)
  uint32_t size = 0;         // bytes in use
  uint32_t capacity = 0;     // bytes allocated (kept between switches)
  void release();            // frees the copy
};

class SharedStack {
 public:
  // Coroutines' frames end just below `base` (16-byte aligned down); the
  // resumer must always run above it.
  explicit SharedStack(void* base);

  // Runs entry(arg) as a new coroutine; returns when it suspends or exits.
  void start(void (*entry)(void*), void* arg);
  // Copies a suspended coroutine back and continues it; returns when it
  // suspends again or exits. `saved` keeps its allocation for the next save.
  void resume(SavedStack& saved);
  // In a coroutine: saves it into `saved` and returns to the resumer;
  // returns when resumed. Inlined: its frame would be copied with the rest.
  [[gnu::always_inline]] inline void suspend(SavedStack& saved);
  // In a coroutine: back to the resumer for good (the coroutine's frames are
  // abandoned, never unwound).
  [[noreturn]] void exit();

  char* base() const { return base_; }
  bool running() const { return running_; }
  // About where the caller's frame is: a resumer checks that it still runs
  // above the base before it starts or resumes a coroutine.
  [[gnu::noinline]] static char* stack_pointer();

 private:
  static void save_below_base(void* sp, void* request);

  char* base_;
  void* resumer_sp_ = nullptr;
  bool running_ = false;
};

extern "C" void tf_stack_switch(void** save_sp, void* next_sp, void (*then)(void*, void*), void* ctx);

struct SaveRequest {
  char* base;
  SavedStack* saved;
};

inline void SharedStack::suspend(SavedStack& saved) {
  SaveRequest request{base_, &saved};
  tf_stack_switch(&saved.sp, resumer_sp_, save_below_base, &request);
}

}  // namespace tf::hub
