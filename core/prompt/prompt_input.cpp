#include "core/prompt/prompt_input.hpp"

#include <elf.h>
#include <link.h>
#include <poll.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstring>

#include "core/select/fd_ready.hpp"
#include "core/task/green_hub.hpp"
#include "core/py_ref.hpp"

// python3's stdio line reader (Parser/myreadline.c): public but not
// declared, and kept internal by Debian's python3 binary, so the extension
// module loaded there finds none (weak: null); tfpython links it in.
extern "C" char* PyOS_StdioReadline(FILE* in, FILE* out, const char* prompt) __attribute__((weak));

namespace tf::core {
namespace {

// What was thrown into the prompt's wait, for readline's signal check.
SavedError g_thrown;

// The thread reading the prompt, with the GIL taken back from PyOS_Readline
// (which released it); null when that is not this thread.
PyThreadState* take_gil_of_prompt() {
  PyThreadState* ts = _PyOS_ReadlineTState;
  if (!ts || ts->thread_id != PyThread_get_thread_ident()) return nullptr;
  PyEval_RestoreThread(ts);
  return ts;
}

// Input already read from fd into the FILE's buffer (glibc's fields): no
// wait for the fd then.
bool buffered_input(FILE* in) { return in->_IO_read_ptr < in->_IO_read_end; }

// ------------------------------------------------------------ readline --
// readline_until_enter_or_signal(): select(fd + 1, {fd}, NULL, NULL, t).
int select_on_the_hub(int nfds, fd_set* readers, fd_set* writers, fd_set* errors, timeval* timeout) {
  int fd = -1;
  for (int i = 0; readers && i < nfds; ++i) {
    if (!FD_ISSET(i, readers)) continue;
    if (fd >= 0) fd = nfds;  // more than one: not readline's
    else fd = i;
  }
  if (fd < 0 || fd >= nfds || writers || errors) return ::select(nfds, readers, writers, errors, timeout);
  PyThreadState* ts = take_gil_of_prompt();
  if (!ts) return ::select(nfds, readers, writers, errors, timeout);
  if (!GreenHub::cooperative_here()) {
    PyEval_SaveThread();
    return ::select(nfds, readers, writers, errors, timeout);
  }
  double seconds = timeout ? static_cast<double>(timeout->tv_sec) + timeout->tv_usec / 1e6 : -1;
  int result = 1;
  // Thrown into the input hook's wait (wait_for_input_on_the_hub): deliver it.
  switch (g_thrown ? FdReadiness::kFailed : wait_fd_ready(fd, POLLIN, seconds)) {
    case FdReadiness::kReady:
      break;
    case FdReadiness::kTimedOut:
      FD_ZERO(readers);
      result = 0;
      break;
    case FdReadiness::kFailed:
      if (!g_thrown) g_thrown = SavedError::fetch();
      result = -1;
      break;
  }
  PyEval_SaveThread();
  if (result < 0) errno = EINTR;
  return result;
}

// readline's PyErr_CheckSignals() after an interrupted select.
int check_signals_after_the_hub() {
  if (g_thrown) {
    g_thrown.restore();
    return -1;
  }
  return PyErr_CheckSignals();
}

struct GotEntry {
  const char* symbol;
  void* replacement;
};

struct GotPatch {
  const char* object;  // part of the shared object's path
  const GotEntry* entries;
  int patched = 0;
};

uintptr_t relocated(uintptr_t base, uintptr_t value) { return value < base ? value + base : value; }

// Points the object's GOT entries for the given symbols at our functions.
int patch_got(dl_phdr_info* info, size_t, void* data) {
  auto* patch = static_cast<GotPatch*>(data);
  if (!info->dlpi_name || !std::strstr(info->dlpi_name, patch->object)) return 0;
  uintptr_t base = info->dlpi_addr;
  const ElfW(Dyn)* dynamic = nullptr;
  uintptr_t relro_start = 0, relro_end = 0;
  for (int i = 0; i < info->dlpi_phnum; ++i) {
    const ElfW(Phdr)& ph = info->dlpi_phdr[i];
    if (ph.p_type == PT_DYNAMIC) dynamic = reinterpret_cast<const ElfW(Dyn)*>(base + ph.p_vaddr);
    if (ph.p_type == PT_GNU_RELRO) {
      relro_start = base + ph.p_vaddr;
      relro_end = relro_start + ph.p_memsz;
    }
  }
  if (!dynamic) return 1;
  const ElfW(Sym)* symbols = nullptr;
  const char* names = nullptr;
  const ElfW(Rela)* tables[2] = {nullptr, nullptr};
  size_t sizes[2] = {0, 0};
  for (const ElfW(Dyn)* d = dynamic; d->d_tag != DT_NULL; ++d) {
    switch (d->d_tag) {
      case DT_SYMTAB: symbols = reinterpret_cast<const ElfW(Sym)*>(relocated(base, d->d_un.d_ptr)); break;
      case DT_STRTAB: names = reinterpret_cast<const char*>(relocated(base, d->d_un.d_ptr)); break;
      case DT_JMPREL: tables[0] = reinterpret_cast<const ElfW(Rela)*>(relocated(base, d->d_un.d_ptr)); break;
      case DT_PLTRELSZ: sizes[0] = d->d_un.d_val; break;
      case DT_RELA: tables[1] = reinterpret_cast<const ElfW(Rela)*>(relocated(base, d->d_un.d_ptr)); break;
      case DT_RELASZ: sizes[1] = d->d_un.d_val; break;
      default: break;
    }
  }
  if (!symbols || !names) return 1;
  long page = sysconf(_SC_PAGESIZE);
  for (int t = 0; t < 2; ++t) {
    for (size_t i = 0; tables[t] && i < sizes[t] / sizeof(ElfW(Rela)); ++i) {
      const ElfW(Rela)& r = tables[t][i];
      unsigned type = ELF64_R_TYPE(r.r_info);
      if (type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT) continue;
      const char* name = names + symbols[ELF64_R_SYM(r.r_info)].st_name;
      for (const GotEntry* e = patch->entries; e->symbol; ++e) {
        if (std::strcmp(name, e->symbol) != 0) continue;
        uintptr_t slot = base + r.r_offset;
        void* start = reinterpret_cast<void*>(slot & ~static_cast<uintptr_t>(page - 1));
        bool read_only = slot >= relro_start && slot < relro_end;
        if (read_only && mprotect(start, page, PROT_READ | PROT_WRITE) != 0) continue;
        *reinterpret_cast<void**>(slot) = e->replacement;
        if (read_only) mprotect(start, page, PROT_READ);
        ++patch->patched;
      }
    }
  }
  return 1;
}

bool g_readline_patched = false;

bool patch_readline_module() {
  if (g_readline_patched) return true;
  PyObject* module = PyDict_GetItemString(PyImport_GetModuleDict(), "readline");  // borrowed
  if (!module) return false;
  static const GotEntry entries[] = {{"select", reinterpret_cast<void*>(&select_on_the_hub)},
                                     {"PyErr_CheckSignals", reinterpret_cast<void*>(&check_signals_after_the_hub)},
                                     {nullptr, nullptr}};
  GotPatch patch{"/readline.cpython-", entries};
  dl_iterate_phdr(patch_got, &patch);
  g_readline_patched = patch.patched == 2;
  return g_readline_patched;
}

// --------------------------------------------------------------- stdio --
char* stdio_readline_on_the_hub(FILE* in, FILE* out, const char* prompt) {
  if (take_gil_of_prompt()) {
    if (GreenHub::cooperative_here() && !buffered_input(in)) {
      std::fprintf(stderr, "%s", prompt);  // where python3's stdio reader prints it
      std::fflush(stderr);
      prompt = "";
      if (wait_fd_ready(fileno(in), POLLIN, -1) == FdReadiness::kFailed) {
        PyEval_SaveThread();
        return nullptr;  // the exception is the prompt's (a ^C at python3's)
      }
    }
    PyEval_SaveThread();
  }
  return PyOS_StdioReadline(in, out, prompt);
}

// python3 -i < file: the stdio reader calls this before each read (and
// readline's loop, when it is set, after each select() that timed out).
int wait_for_input_on_the_hub() {
  if (!take_gil_of_prompt()) return 0;
  // Not while an exception waits for readline's signal check: readline
  // calls the hook after the select() that reported it, before the check.
  if (!g_thrown && GreenHub::cooperative_here() && !buffered_input(stdin) &&
      wait_fd_ready(fileno(stdin), POLLIN, -1) == FdReadiness::kFailed) {
    bool readline_reads = g_readline_patched && isatty(fileno(stdin)) && isatty(fileno(stdout));
    if (readline_reads) {
      g_thrown = SavedError::fetch();  // its next select() reports it
    } else if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
      // The stdio read that follows cannot be cut short from here: a
      // KeyboardInterrupt is raised again at the next signal check.
      PyErr_Clear();
      PyErr_SetInterruptEx(SIGINT);
    } else {
      PyErr_WriteUnraisable(nullptr);
    }
  }
  PyEval_SaveThread();
  return 0;
}

PyObject* prompt_waits_on_hub(PyObject*, PyObject*) {
  if (!patch_readline_module() && PyOS_StdioReadline && PyOS_ReadlineFunctionPointer == PyOS_StdioReadline)
    PyOS_ReadlineFunctionPointer = stdio_readline_on_the_hub;
  if (!PyOS_InputHook) PyOS_InputHook = wait_for_input_on_the_hub;
  return PyBool_FromLong(g_readline_patched);
}

PyObject* run_hub_beside(PyObject*, PyObject*) {
  if (!GreenHub::for_this_thread().run_beside()) return nullptr;
  Py_RETURN_NONE;
}

PyMethodDef g_methods[] = {
    {"prompt_waits_on_hub", prompt_waits_on_hub, METH_NOARGS,
     "prompt_waits_on_hub() -> whether readline's wait was redirected: the prompt waits for input on the hub."},
    {"run_hub_beside", run_hub_beside, METH_NOARGS,
     "run_hub_beside(): the hub runs in a greenlet of its own beside this one (the prompt's)."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_prompt_input(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
