#include "core/monkey/entry_point_scan.hpp"

#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <string>
#include <string_view>
#include <vector>

#include "core/py_ref.hpp"

namespace tf::core {
namespace {

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// The distributions' metadata folders in one sys.path directory, sorted.
std::vector<std::string> metadata_folders(int dir_fd) {
  std::vector<std::string> names;
  int listing_fd = ::dup(dir_fd);
  DIR* dir = listing_fd >= 0 ? ::fdopendir(listing_fd) : nullptr;
  if (!dir) {
    if (listing_fd >= 0) ::close(listing_fd);
    return names;
  }
  while (dirent* entry = ::readdir(dir)) {
    std::string_view name = entry->d_name;
    if (ends_with(name, ".dist-info") || ends_with(name, ".egg-info")) names.emplace_back(name);
  }
  ::closedir(dir);
  std::sort(names.begin(), names.end());
  return names;
}

bool read_small_file(int dir_fd, const std::string& path, std::string* out) {
  int fd = ::openat(dir_fd, path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char buffer[16384];
  ssize_t n;
  while ((n = ::read(fd, buffer, sizeof buffer)) > 0 && out->size() < (1 << 20)) out->append(buffer, n);
  ::close(fd);
  return n == 0;
}

PyObject* find_entry_point_files(PyObject*, PyObject* const* args, Py_ssize_t nargs) {
  if (!_PyArg_CheckPositional("find_entry_point_files", nargs, 2, 2)) return nullptr;
  const char* marker = PyUnicode_Check(args[1]) ? PyUnicode_AsUTF8(args[1]) : nullptr;
  PyRef paths = PyRef::steal(PySequence_Fast(args[0], "find_entry_point_files(paths, marker): paths is a list"));
  if (!paths || !marker) {
    if (!PyErr_Occurred()) PyErr_SetString(PyExc_TypeError, "find_entry_point_files(paths, marker)");
    return nullptr;
  }
  std::vector<std::string> texts;
  Py_ssize_t count = PySequence_Fast_GET_SIZE(paths.get());
  for (Py_ssize_t i = 0; i < count; ++i) {
    PyObject* item = PySequence_Fast_GET_ITEM(paths.get(), i);
    const char* path = PyUnicode_Check(item) ? PyUnicode_AsUTF8(item) : nullptr;
    if (!path) {
      PyErr_Clear();
      continue;
    }
    int dir_fd = ::open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd < 0) continue;  // missing, a zip file: nothing installed there
    for (const std::string& folder : metadata_folders(dir_fd)) {
      std::string text;
      if (read_small_file(dir_fd, folder + "/entry_points.txt", &text) && text.find(marker) != std::string::npos)
        texts.push_back(std::move(text));
    }
    ::close(dir_fd);
  }
  PyRef result = PyRef::steal(PyList_New(0));
  if (!result) return nullptr;
  for (const std::string& text : texts) {
    PyRef str = PyRef::steal(PyUnicode_DecodeUTF8(text.data(), static_cast<Py_ssize_t>(text.size()), "replace"));
    if (!str || PyList_Append(result.get(), str.get()) < 0) return nullptr;
  }
  return result.release();
}

PyMethodDef g_methods[] = {
    {"find_entry_point_files", reinterpret_cast<PyCFunction>(reinterpret_cast<void (*)()>(find_entry_point_files)),
     METH_FASTCALL,
     "find_entry_point_files(paths, marker): the entry_points.txt texts of the distributions in paths\n"
     "that hold marker."},
    {nullptr, nullptr, 0, nullptr}};

}  // namespace

int add_entry_point_scan(PyObject* module) { return PyModule_AddFunctions(module, g_methods); }

}  // namespace tf::core
