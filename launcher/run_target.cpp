#include "launcher/run_target.hpp"

#include <marshal.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>

#include "core/py_ref.hpp"
#include "launcher/cpython_internals.hpp"
#include "launcher/sys_path0.hpp"

namespace tf::launcher {

using core::PyRef;

namespace {

// The interpreter's live config, as pymain_run_python() takes it
// (python3's main() adjusts `inspect` on it the same way).
PyConfig* interpreter_config() {
  return const_cast<PyConfig*>(_PyInterpreterState_GetConfig(PyInterpreterState_Get()));
}

// config_run_code(): -c, -m or a file was given.
bool runs_code(const PyConfig* c) { return c->run_command || c->run_module || c->run_filename; }

// stdin_is_interactive(): stdin is a terminal, or -i.
bool stdin_is_interactive(const PyConfig* c) { return isatty(fileno(stdin)) || c->interactive; }

// pymain_set_inspect().
void set_inspect(PyConfig* c, int inspect) {
  c->inspect = inspect;
  _Py_COMP_DIAG_PUSH
  _Py_COMP_DIAG_IGNORE_DEPR_DECLS
  Py_InspectFlag = inspect;
  _Py_COMP_DIAG_POP
}

// pymain_exit_err_print() (pymain_err_print() with the code returned):
// reports the pending exception like python3 and returns its exit code.
// SystemExit is handled without exiting: the hub still has to stop and the
// interpreter to finalise on the root greenlet.
int report_error() {
  int code;
  if (_Py_HandleSystemExit(&code)) return code;
  PyErr_Print();
  return 1;
}

// flush_io() of Python/pythonrun.c: sys.stderr and sys.stdout flushed, the
// pending exception kept.
void flush_io() {
  PyObject *type, *value, *tb;
  PyErr_Fetch(&type, &value, &tb);
  for (const char* name : {"stderr", "stdout"}) {
    PyObject* f = PySys_GetObject(name);
    if (f && f != Py_None) {
      PyRef r = PyRef::steal(PyObject_CallMethod(f, "flush", nullptr));
      if (!r) PyErr_Clear();
    }
  }
  PyErr_Restore(type, value, tb);
}

// __main__'s dict (borrowed), as PyRun_SimpleStringFlags() finds it.
PyObject* main_dict() {
  PyObject* m = PyImport_AddModule("__main__");
  return m ? PyModule_GetDict(m) : nullptr;
}

// pymain_run_command(): PyRun_SimpleStringFlags() with PyCF_IGNORE_COOKIE,
// but the error reported by report_error() (SystemExit not exiting).
int run_command(const wchar_t* command) {
  PyRef unicode = PyRef::steal(PyUnicode_FromWideChar(command, -1));
  if (!unicode) {
    PySys_WriteStderr("Unable to decode the command from the command line:\n");
    return report_error();
  }
  if (PySys_Audit("cpython.run_command", "O", unicode.get()) < 0) return report_error();
  PyRef bytes = PyRef::steal(PyUnicode_AsUTF8String(unicode.get()));
  if (!bytes) {
    PySys_WriteStderr("Unable to decode the command from the command line:\n");
    return report_error();
  }
  PyCompilerFlags cf = _PyCompilerFlags_INIT;
  cf.cf_flags |= PyCF_IGNORE_COOKIE;
  PyObject* d = main_dict();
  if (!d) return report_error();
  PyRef v = PyRef::steal(PyRun_StringFlags(PyBytes_AS_STRING(bytes.get()), Py_file_input, d, d, &cf));
  if (!v) return report_error();
  return 0;
}

// pymain_run_module(): runpy._run_module_as_main(name, set_argv0).
int run_module(const wchar_t* name, int set_argv0) {
  PyRef runpy = PyRef::steal(PyImport_ImportModule("runpy"));
  if (!runpy) {
    std::fprintf(stderr, "Could not import runpy module\n");
    return report_error();
  }
  PyRef run = PyRef::steal(PyObject_GetAttrString(runpy.get(), "_run_module_as_main"));
  if (!run) {
    std::fprintf(stderr, "Could not access runpy._run_module_as_main\n");
    return report_error();
  }
  PyRef module = PyRef::steal(PyUnicode_FromWideChar(name, -1));
  if (!module) {
    std::fprintf(stderr, "Could not convert module name to unicode\n");
    return report_error();
  }
  PyRef result = PyRef::steal(PyObject_CallFunction(run.get(), "Oi", module.get(), set_argv0));
  if (!result) {
    if (PyErr_Occurred() == PyExc_KeyboardInterrupt) _Py_UnhandledKeyboardInterrupt = 1;
    return report_error();
  }
  return 0;
}

// maybe_pyc_file() of Python/pythonrun.c: python3 runs a compiled file when
// its name ends in .pyc, or (for a file it may rewind) when it starts with
// the magic number's first two bytes.
bool looks_like_pyc(FILE* fp, PyObject* filename, bool closeit) {
  PyRef ext = PyRef::steal(PyUnicode_FromString(".pyc"));
  if (ext && PyUnicode_Tailmatch(filename, ext.get(), 0, PY_SSIZE_T_MAX, +1) == 1) return true;
  PyErr_Clear();
  if (!closeit || std::ftell(fp) != 0) return false;  // stdin, or -x moved the stream
  unsigned char head[2];
  unsigned int half_magic = static_cast<unsigned int>(PyImport_GetMagicNumber()) & 0xFFFF;
  bool pyc = std::fread(head, 1, 2, fp) == 2 && (static_cast<unsigned int>(head[1]) << 8 | head[0]) == half_magic;
  std::rewind(fp);
  return pyc;
}

// run_pyc_file() of Python/pythonrun.c: the code object of a .pyc (magic,
// three header words, then marshal data), evaluated in `d`; python3's
// messages for a bad file. Closes fp.
PyObject* run_pyc(FILE* fp, PyObject* d) {
  PyRef code;
  if (PyMarshal_ReadLongFromFile(fp) != PyImport_GetMagicNumber()) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_RuntimeError, "Bad magic number in .pyc file");
  } else {
    for (int i = 0; i < 3; ++i) (void)PyMarshal_ReadLongFromFile(fp);
    if (!PyErr_Occurred()) {
      code = PyRef::steal(PyMarshal_ReadLastObjectFromFile(fp));
      if (!code || !PyCode_Check(code.get())) {
        code = PyRef();
        PyErr_SetString(PyExc_RuntimeError, "Bad code object in .pyc file");
      }
    }
  }
  std::fclose(fp);
  if (!code) return nullptr;
  if (!PyDict_GetItemString(d, "__builtins__") &&
      PyDict_SetItemString(d, "__builtins__", PyEval_GetBuiltins()) < 0)
    return nullptr;
  return PyEval_EvalCode(code.get(), d, d);
}

// _PyRun_SimpleFileObject() of Python/pythonrun.c (what PyRun_AnyFileExFlags
// calls for a file that is not interactive) without its PyErr_Print:
// __file__, __cached__ and __loader__ as python3 sets them, then the source
// (or a .pyc's code) runs in __main__.
int run_main_file(FILE* fp, PyObject* filename, bool closeit) {
  PyObject* d = main_dict();
  if (!d) return report_error();
  bool set_file_name = false;
  if (!PyDict_GetItemString(d, "__file__")) {
    if (PyDict_SetItemString(d, "__file__", filename) < 0 ||
        PyDict_SetItemString(d, "__cached__", Py_None) < 0)
      return report_error();
    set_file_name = true;
  }
  int code = 0;
  bool is_stdin = PyUnicode_CompareWithASCIIString(filename, "<stdin>") == 0;
  bool pyc = looks_like_pyc(fp, filename, closeit);
  if (pyc) {
    if (closeit) std::fclose(fp);
    fp = _Py_fopen_obj(filename, "rb");  // python3 reopens it in binary mode
    if (!fp) {
      std::fprintf(stderr, "python: Can't reopen .pyc file\n");
      PyErr_Clear();
      code = 1;
      goto done;
    }
  }
  if (!is_stdin) {
    PyRef external = PyRef::steal(PyImport_ImportModule("_frozen_importlib_external"));
    PyRef loader = external ? PyRef::steal(PyObject_CallMethod(external.get(),
                                                                pyc ? "SourcelessFileLoader" : "SourceFileLoader",
                                                                "sO", "__main__", filename))
                            : PyRef();
    if (!loader || PyDict_SetItemString(d, "__loader__", loader.get()) < 0) {
      std::fprintf(stderr, "python: failed to set __main__.__loader__\n");
      code = report_error();
      if (closeit || pyc) std::fclose(fp);
      goto done;
    }
  }
  if (pyc) {
    PyRef v = PyRef::steal(run_pyc(fp, d));
    flush_io();
    if (!v) code = report_error();
  } else {
    PyRef bytes = PyRef::steal(PyUnicode_EncodeFSDefault(filename));
    if (!bytes) {
      code = report_error();
      goto done;
    }
    PyCompilerFlags cf = _PyCompilerFlags_INIT;
    PyRef v = PyRef::steal(
        PyRun_FileExFlags(fp, PyBytes_AS_STRING(bytes.get()), Py_file_input, d, d, closeit, &cf));
    flush_io();
    if (!v) code = report_error();
  }
done:
  if (set_file_name) {
    if (PyDict_DelItemString(d, "__file__")) PyErr_Clear();
    if (PyDict_DelItemString(d, "__cached__")) PyErr_Clear();
  }
  return code;
}

// pymain_run_file() and pymain_run_file_obj(): open the script (python3's
// messages and status 2 when it cannot be), -x, a directory refused, the
// pending calls (SIGINT), then run_main_file().
int run_file(const PyConfig* config) {
  PyRef filename = PyRef::steal(PyUnicode_FromWideChar(config->run_filename, -1));
  if (!filename) return report_error();
  PyRef program_name = PyRef::steal(PyUnicode_FromWideChar(config->program_name, -1));
  if (!program_name) return report_error();
  if (PySys_Audit("cpython.run_file", "O", filename.get()) < 0) return report_error();
  FILE* fp = _Py_fopen_obj(filename.get(), "rb");
  if (!fp) {
    int saved = errno;
    PyErr_Clear();
    PySys_FormatStderr("%S: can't open file %R: [Errno %d] %s\n", program_name.get(), filename.get(),
                       saved, std::strerror(saved));
    return 2;
  }
  if (config->skip_source_first_line) {
    int ch;
    // The newline is pushed back so line numbers stay right.
    while ((ch = std::getc(fp)) != EOF) {
      if (ch == '\n') {
        (void)std::ungetc(ch, fp);
        break;
      }
    }
  }
  struct stat sb;
  if (fstat(fileno(fp), &sb) == 0 && S_ISDIR(sb.st_mode)) {
    PySys_FormatStderr("%S: %R is a directory, cannot continue\n", program_name.get(), filename.get());
    std::fclose(fp);
    return 1;
  }
  if (Py_MakePendingCalls() == -1) {
    std::fclose(fp);
    return report_error();
  }
  return run_main_file(fp, filename.get(), true);
}

// pymain_run_stdin() when stdin is not interactive: stdin read as a file.
// (The interactive part, the prompt, is in run_interactive().)
int run_stdin_as_file() {
  if (Py_MakePendingCalls() == -1) return report_error();
  if (PySys_Audit("cpython.run_stdin", nullptr) < 0) return report_error();
  PyRef name = PyRef::steal(PyUnicode_FromString("<stdin>"));
  return run_main_file(stdin, name.get(), false);
}

// pymain_get_importer(): a directory or zip file with __main__.py is run as
// a package: its path (returned in *path) goes first on sys.path.
bool find_main_importer(const wchar_t* filename, PyRef* path, int* exitcode) {
  PyRef path0 = PyRef::steal(PyUnicode_FromWideChar(filename, -1));
  PyRef importer = path0 ? PyRef::steal(PyImport_GetImporter(path0.get())) : PyRef();
  if (!importer) {
    PySys_WriteStderr("Failed checking if argv[0] is an import path entry\n");
    *exitcode = report_error();
    return false;
  }
  if (importer.get() != Py_None) *path = path0;
  return true;
}

// pymain_sys_path_add_path0(): sys.path.insert(0, path0).
int prepend_sys_path(PyObject* path0) {
  PyObject* sys_path = PySys_GetObject("path");
  if (!sys_path || !PyList_Check(sys_path)) {
    PyErr_SetString(PyExc_RuntimeError, "unable to get sys.path");
    return -1;
  }
  return PyList_Insert(sys_path, 0, path0);
}

// pymain_import_readline(): readline and rlcompleter for a prompt to come.
void import_readline(const PyConfig* c) {
  if (c->isolated) return;
  if (!c->inspect && runs_code(c)) return;
  if (!isatty(fileno(stdin))) return;
  for (const char* name : {"readline", "rlcompleter"}) {
    PyRef mod = PyRef::steal(PyImport_ImportModule(name));
    if (!mod) PyErr_Clear();
  }
}

// pymain_header(): the version banner of the interactive prompt.
void print_header(const PyConfig* c) {
  if (c->quiet) return;
  if (!c->verbose && (runs_code(c) || !stdin_is_interactive(c))) return;
  std::fprintf(stderr, "Python %s on %s\n", Py_GetVersion(), Py_GetPlatform());
  if (c->site_import) {
    std::fprintf(stderr, "%s\n",
                 "Type \"help\", \"copyright\", \"credits\" or \"license\" for more information.");
  }
}

// pymain_run_interactive_hook(): sys.__interactivehook__ (site's readline
// set-up); true when its error means the program ends with *exitcode.
bool run_interactive_hook(int* exitcode) {
  PyObject* hook = PySys_GetObject("__interactivehook__");
  if (!hook) return false;
  if (PySys_Audit("cpython.run_interactivehook", "O", hook) < 0) {
    PySys_WriteStderr("Failed calling sys.__interactivehook__\n");
    *exitcode = report_error();
    return true;
  }
  PyRef r = PyRef::steal(PyObject_CallNoArgs(hook));
  if (!r) {
    PySys_WriteStderr("Failed calling sys.__interactivehook__\n");
    *exitcode = report_error();
    return true;
  }
  return false;
}

// pymain_run_startup(): the PYTHONSTARTUP file before the first prompt;
// true when its error means the program ends with *exitcode.
bool run_startup_file(const PyConfig* c, int* exitcode) {
  const char* startup = c->use_environment ? getenv("PYTHONSTARTUP") : nullptr;
  if (!startup || !*startup) return false;
  PyRef name = PyRef::steal(PyUnicode_DecodeFSDefault(startup));
  if (!name || PySys_Audit("cpython.run_startup", "O", name.get()) < 0) {
    *exitcode = report_error();
    return true;
  }
  FILE* fp = _Py_fopen_obj(name.get(), "r");
  if (!fp) {
    int saved = errno;
    PySys_WriteStderr("Could not open PYTHONSTARTUP\n");
    errno = saved;
    PyErr_SetFromErrnoWithFilenameObjects(PyExc_OSError, name.get(), nullptr);
    *exitcode = report_error();
    return true;
  }
  PyCompilerFlags cf = _PyCompilerFlags_INIT;
  (void)PyRun_SimpleFileExFlags(fp, startup, 0, &cf);
  PyErr_Clear();
  std::fclose(fp);
  return false;
}

bool g_prompt_pending = false;  // stdin is a terminal and nothing else ran

// Ours (python3 has no counterpart): the hub runs beside the prompt (on the
// root greenlet, where exit() may end the process), and the prompt waits for
// input on it: threads and greenlets keep running meanwhile. Without it the
// prompt still works, blocking.
void run_hub_beside_prompt() {
  PyRef core = PyRef::steal(PyImport_ImportModule("_framework_core"));
  for (const char* step : {"run_hub_beside", "prompt_waits_on_hub"}) {
    PyRef done = core ? PyRef::steal(PyObject_CallMethod(core.get(), step, nullptr)) : PyRef();
    if (!done) {
      PyErr_Clear();
      return;
    }
  }
  // The prompt's greenlet (the root) is the main thread from now on: the
  // program's greenlet, which was, has ended.
  PyRef framework = PyRef::steal(PyImport_ImportModule("theframework"));
  PyRef adopted = framework ? PyRef::steal(PyObject_CallMethod(framework.get(), "_program_started", nullptr)) : PyRef();
  if (!adopted) PyErr_Print();
}

}  // namespace

// pymain_run_python() up to the run itself: the importer of a package,
// readline, sys.path[0] (_PyPathConfig_ComputeSysPath0, see sys_path0.cpp),
// the header, then -c, -m, a package, a file or stdin. A prompt is only
// noted here: it runs later on the root greenlet (run_interactive()).
int run_program() {
  PyConfig* config = interpreter_config();
  int exitcode = 0;
  PyRef main_importer_path;
  if (config->run_filename && !find_main_importer(config->run_filename, &main_importer_path, &exitcode))
    return exitcode;

  // readline and rlcompleter are imported before the script's directory is
  // on sys.path, as python3 does.
  import_readline(config);

  if (main_importer_path) {
    if (prepend_sys_path(main_importer_path.get()) < 0) return report_error();
  } else if (!config->safe_path) {
    PyObject* path0 = nullptr;
    int res = compute_sys_path0(config->argv, &path0);
    if (res < 0) return report_error();
    if (res > 0) {
      PyRef owned = PyRef::steal(path0);
      if (prepend_sys_path(owned.get()) < 0) return report_error();
    }
  }

  print_header(config);

  if (config->run_command) return run_command(config->run_command);
  if (config->run_module) return run_module(config->run_module, 1);
  if (main_importer_path) return run_module(L"__main__", 0);
  if (config->run_filename) return run_file(config);
  if (stdin_is_interactive(config)) {
    g_prompt_pending = true;  // the prompt runs on the root greenlet
    return 0;
  }
  return run_stdin_as_file();
}

// The interactive part of pymain_run_stdin() (for a prompt noted by
// run_program()), then pymain_repl(): -i or PYTHONINSPECT after the program.
void run_interactive(int* exitcode) {
  PyConfig* config = interpreter_config();
  PyCompilerFlags cf = _PyCompilerFlags_INIT;
  if (g_prompt_pending) {
    g_prompt_pending = false;
    set_inspect(config, 0);  // exit on SystemExit
    if (run_startup_file(config, exitcode)) return;
    if (run_interactive_hook(exitcode)) return;
    if (Py_MakePendingCalls() == -1) {
      *exitcode = report_error();
      return;
    }
    if (PySys_Audit("cpython.run_stdin", nullptr) < 0) {
      *exitcode = report_error();
      return;
    }
    run_hub_beside_prompt();
    *exitcode = PyRun_AnyFileExFlags(stdin, "<stdin>", 0, &cf) != 0;
  }
  // PYTHONINSPECT is read last so the program may have set it.
  if (!config->inspect && config->use_environment) {
    const char* v = getenv("PYTHONINSPECT");
    if (v && *v) set_inspect(config, 1);
  }
  if (!(config->inspect && stdin_is_interactive(config) && runs_code(config))) return;
  set_inspect(config, 0);
  if (run_interactive_hook(exitcode)) return;
  run_hub_beside_prompt();
  *exitcode = PyRun_AnyFileFlags(stdin, "<stdin>", &cf) != 0;
}

// exit_sigint(): dying by the signal lets the parent shell see 130 and stop
// a script.
int exit_by_sigint() {
  if (PyOS_setsig(SIGINT, SIG_DFL) == SIG_ERR) {
    std::perror("signal");
  } else {
    kill(getpid(), SIGINT);
  }
  return SIGINT + 128;
}

}  // namespace tf::launcher
