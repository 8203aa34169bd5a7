// A greenlet that runs Python code needs a frame-stack chunk of its own:
// CPython 3.11 takes 16 KiB from its arena allocator (one mmap), and greenlet
// gives it back when the greenlet ends (one munmap). With one greenlet per
// connection or per "thread" those two syscalls and the page faults behind
// them were a large part of the cost of a short greenlet. install() puts a
// pool in front of CPython's arena allocator for exactly that size; every
// other request (pymalloc's arenas, deeper chunks) goes to mmap as before.
#pragma once

namespace tf::core::stack_chunks {

// Idempotent; call with the GIL held (CPython's arena allocator is only
// ever used under the GIL).
void install();

// Chunks handed out and chunks kept free, for tests.
struct Counts {
  unsigned long in_use;
  unsigned long free_dirty;
  unsigned long free_clean;
};
Counts counts();

}  // namespace tf::core::stack_chunks
