// _framework_core: the module, assembled from each feature's functions and
// types. Every feature lives in the folder of the stdlib name it serves
// (socket/, ssl/, thread/, time/, signal/, os/, io/, select/), the tasks
// and their hub in task/, what patching itself needs in monkey/.
#include "core/module.hpp"

#include "core/io/file_io.hpp"
#include "core/monkey/entry_point_scan.hpp"
#include "core/monkey/find_and_load.hpp"
#include "core/monkey/hidden_frames.hpp"
#include "core/monkey/method_patch.hpp"
#include "core/os/system.hpp"
#include "core/prompt/prompt_input.hpp"
#include "core/py_ref.hpp"
#include "core/select/epoll.hpp"
#include "core/select/wait.hpp"
#include "core/signal/pause.hpp"
#include "core/signal/wait_signals.hpp"
#include "core/socket/name_info.hpp"
#include "core/socket/socket.hpp"
#include "core/ssl/ssl.hpp"
#include "core/task/hub_api.hpp"
#include "core/task/spawn.hpp"
#include "core/task/stack_chunks.hpp"
#include "core/task/waiter.hpp"
#include "core/thread/identity.hpp"
#include "core/thread/local.hpp"
#include "core/thread/lock.hpp"
#include "core/thread/start.hpp"
#include "core/time/sleep.hpp"

namespace tf::core {
namespace {

PyModuleDef g_module = {PyModuleDef_HEAD_INIT, "_framework_core",
                        "The io_uring hub and the cooperative primitives of tfpython.", -1, nullptr};

using AddFeature = int (*)(PyObject*);

// In this order: later features may look up what earlier ones added.
constexpr AddFeature kFeatures[] = {
    // task/: the hub and its tasks
    add_hub_api, add_waiter, add_spawn,
    // one per stdlib feature
    add_sleep,                                                            // time
    add_socket, add_name_info,                                            // socket
    add_ssl,                                                              // ssl
    add_thread_identity, add_thread_lock, add_thread_local, add_thread_start,  // _thread, threading
    add_file_io,                                                          // io
    add_select_epoll, add_select_wait,                                    // select
    add_os_system,                                                        // os
    add_signal_pause, add_wait_signals,                                   // signal
    // patching itself, and the prompt
    add_hidden_frames, add_method_patch, add_find_and_load, add_entry_point_scan,
    add_prompt_input,
};

}  // namespace

PyObject* init_module() {
  stack_chunks::install();
  if (apply_backend_preference() < 0) return nullptr;
  PyRef m = PyRef::steal(PyModule_Create(&g_module));
  if (!m) return nullptr;
  for (AddFeature add : kFeatures)
    if (add(m.get()) < 0) return nullptr;
  return m.release();
}

}  // namespace tf::core

PyMODINIT_FUNC PyInit__framework_core() { return tf::core::init_module(); }
