// A greenlet that runs Python code needs a frame-stack chunk of its own:
// CPython 3.11 takes 16 KiB from its arena allocator (one mmap), and greenlet
// gives it back when the greenlet ends (one munmap). With one greenlet per
// connection or per "thread" those two syscalls and the page faults behind
// them were a large part of the cost of a short greenlet. install() puts a
// pool in front of CPython's arena allocator for exactly that size; every
// other request (pymalloc's arenas, deeper chunks) goes to mmap as before.
//
// A greenlet that starts with an empty frame stack can also be given a small
// root chunk (give_root_chunk_before): a "thread" parked in sleep() or recv() holds
// a few hundred bytes of frames, and a 16 KiB chunk costs it a whole page.
#pragma once

#include <Python.h>

#include <cstddef>

namespace tf::core::stack_chunks {

// Idempotent; call with the GIL held (CPython's arena allocator is only
// ever used under the GIL).
void install();

// Before a greenlet's body first calls `callable`: a greenlet whose frame
// stack is still empty gets a small root chunk, unless `callable` is a C
// function (spawn(time.sleep, 1) pushes no frame: no chunk at all). False
// (nothing changed) if it already has a chunk or roots are off. Greenlet
// frees the chunk when the greenlet ends, through the allocator installed
// above. The size grows (448 B up to 4 KiB in nine steps, then no roots)
// while too many greenlets park outgrowing theirs (note_parking).
bool give_root_chunk_before(PyObject* callable);

// Before a greenlet or thread parks: counts its root as outgrown if its
// frames sit in a chunk stacked on it (what makes the next roots larger).
void note_parking();

// The size the next root chunk will have; 0 when roots are off.
size_t root_chunk_size();

// Chunks handed out and chunks kept free, for tests.
struct Counts {
  unsigned long in_use;
  unsigned long free_dirty;
  unsigned long free_clean;
  unsigned long roots_in_use;
};
Counts counts();

}  // namespace tf::core::stack_chunks
