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

// What a suspended coroutine keeps: a heap copy of its bytes, [base - size,
// base). Its owner may keep the two fields wherever it likes (the
// SharedStack calls take them by reference); this struct is the plain way.
// The copy stays allocated after a resume, for the next suspend to reuse.
struct SavedStack {
  char* bytes = nullptr;
  uint32_t size = 0;
  void release();  // frees the copy
};

class SharedStack {
 public:
  // Coroutines' frames end just below `base` (16-byte aligned down); the
  // resumer must always run above it.
  explicit SharedStack(void* base);

  // Runs entry(arg) as a new coroutine; returns when it suspends or exits.
  void start(void (*entry)(void*), void* arg);
  // Copies a suspended coroutine back and continues it; returns when it
  // suspends again or exits.
  void resume(const char* bytes, uint32_t size);
  void resume(const SavedStack& saved) { resume(saved.bytes, saved.size); }
  // In a coroutine: saves it (reusing `bytes` if it is the right size) and
  // returns to the resumer; returns when resumed. Inlined: its frame would
  // be copied with the rest.
  [[gnu::always_inline]] inline void suspend(char*& bytes, uint32_t& size);
  void suspend(SavedStack& saved) { suspend(saved.bytes, saved.size); }
  // In a coroutine: back to the resumer for good (the coroutine's frames are
  // abandoned, never unwound).
  [[noreturn]] void exit();

  char* base() const { return base_; }
  bool running() const { return running_; }
  // About where the caller's frame is: a resumer checks that it still runs
  // above the base before it starts or resumes a coroutine.
  [[gnu::noinline]] static char* stack_pointer();

  // Copies alive in the process and their bytes (what suspend() allocated
  // and nobody released yet). An owner that frees a copy itself instead of
  // through SavedStack::release() reports it here.
  struct SavedTotals {
    size_t copies;
    size_t bytes;
  };
  static SavedTotals saved_totals();
  static void note_released(uint32_t size);

 private:
  static void save_below_base(void* sp, void* stack);

  char* base_;
  void* resumer_sp_ = nullptr;
  // The suspending coroutine's copy, for save_below_base: here rather than
  // in suspend()'s frame, which is copied.
  char** saving_bytes_ = nullptr;
  uint32_t* saving_size_ = nullptr;
  void* suspended_sp_ = nullptr;  // written by the switch; resume() finds it from the copy's size
  bool running_ = false;
};

extern "C" void tf_stack_switch(void** save_sp, void* next_sp, void (*then)(void*, void*), void* ctx);

inline void SharedStack::suspend(char*& bytes, uint32_t& size) {
  saving_bytes_ = &bytes;
  saving_size_ = &size;
  tf_stack_switch(&suspended_sp_, resumer_sp_, save_below_base, this);
}

}  // namespace tf::hub
