// threading.local for fiber-threads: python3's _thread._local, with "the
// current thread's dict" found per thread as tfpython counts threads.
//
// The attribute logic is CPython's own (generic getattr/setattr over the
// thread's local dict), so class attributes, __slots__, properties and
// __init__ arguments behave exactly as under python3. What differs is where
// a thread's dict lives:
//  * a fiber-thread: its own PyThreadState dict (swapped in by the hub);
//  * the main thread, the hub, a real OS thread: the OS thread state's dict;
//  * a greenlet spawned on the hub: a dict of its own, kept beside the
//    greenlet and dropped with it.
// As in CPython, the thread's dict holds a small "dummy" per local (strong)
// and the local holds its per-thread dicts keyed by weak references to the
// dummies, so a thread's end frees its local dicts and no cycle passes
// through a thread dict. A dummy also remembers which of our dicts holds
// it, so a local that dies removes its dummies from parked threads' dicts
// too (CPython walks the thread states; parked fibers have none).
#pragma once

#include <Python.h>

namespace tf::core {

// Adds `local` (named _thread._local) to the module.
int add_thread_local(PyObject* module);

// Drops a thread dict we own (a fiber's at its end): its dummies forget it
// first, so a local dying later does not touch it. Steals `dict`.
void release_thread_dict(PyObject* dict);

}  // namespace tf::core
