#include "core/task/stack_chunks.hpp"

#include <Python.h>
#include <sys/mman.h>

#include <cstddef>
#include <cstdlib>
#include <vector>

namespace tf::core::stack_chunks {
namespace {

// CPython 3.11's DATA_STACK_CHUNK_SIZE (Python/pystate.c): the size of the
// first chunk of every frame stack. Larger requests are not ours.
constexpr size_t kChunkSize = 16 * 1024;
// Chunks mapped at once when the pool is empty: one mmap per 64 greenlets.
constexpr size_t kChunksPerMapping = 64;
// Freed chunks kept with their pages; beyond this a freed chunk's pages go
// back to the kernel (MADV_DONTNEED) and only its address range is kept, so
// RSS falls after a burst of greenlets as it did with munmap.
constexpr size_t kKeepDirty = 256;

// Root chunks (give_root_chunk_before) come in these sizes, all smaller than any
// chunk CPython asks for, so that a freed one is known by its size. A frame
// is ~120 bytes: 448 bytes hold threading's bootstrap (the three frames
// every Thread runs, 416 bytes) and a C call such as time.sleep; a small
// Python target needs 640, an HTTP handler 2-4 KiB. The rungs are close
// (what a parked thread keeps is the whole root, used or not); the two
// smallest come from pymalloc (no malloc header).
constexpr size_t kRootSizes[] = {448, 512, 640, 768, 1024, 1536, 2048, 3072, 4096};
constexpr size_t kLargestPymalloc = 512;
constexpr int kRootKinds = sizeof kRootSizes / sizeof kRootSizes[0];
static_assert(kRootSizes[kRootKinds - 1] < kChunkSize, "must not be mistaken for CPython's chunks");
// Freed root chunks kept for reuse, per size.
constexpr size_t kKeepRoots = 1024;
// The root size adapts: when more than 1 in 8 of the last kWindow greenlets
// given a root parked while outgrowing it (CPython then stacks a 16 KiB
// chunk on it, which costs a page for the whole wait), the next size is
// used; past the largest, no roots.
constexpr unsigned kWindow = 64;
constexpr unsigned kTooMany = kWindow / 8;

struct Pool {
  std::vector<void*> dirty;  // freed, pages still resident: reused first
  std::vector<void*> clean;  // never touched, or pages returned
  std::vector<void*> roots[kRootKinds];  // freed root chunks, per size
  unsigned long in_use = 0;
  unsigned long roots_in_use = 0;
  int root_kind = 0;  // index into kRootSizes; kRootKinds: roots are off
  unsigned given_in_window = 0;
  unsigned outgrown_in_window = 0;
  PyObjectArenaAllocator next{};  // what was installed before us
};

Pool* g_pool = nullptr;

int root_kind_of(size_t size) {
  for (int k = 0; k < kRootKinds; ++k)
    if (kRootSizes[k] == size) return k;
  return -1;
}

void* map_anonymous(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

}  // namespace

// A greenlet or thread parks with its frames above its root: the root was
// too small, and the 16 KiB chunk CPython stacked on it stays held for the
// whole wait. Being outgrown for a moment (a deep call that returns before
// the next wait) costs only a pooled chunk taken and given back, so only
// this counts. Each root counts once (marked in data[0], which CPython
// leaves unused in a root), and only at the current size: roots given
// before the last change say nothing about the new size.
void note_parking() {
  Pool* pool = g_pool;
  PyThreadState* tstate = _PyThreadState_UncheckedGet();
  _PyStackChunk* current = tstate ? tstate->datastack_chunk : nullptr;
  if (!pool || !current || !current->previous || pool->root_kind >= kRootKinds) return;
  _PyStackChunk* root = current->previous;
  while (root->previous) root = root->previous;
  if (root->size != kRootSizes[pool->root_kind] || root->data[0]) return;
  root->data[0] = Py_None;  // a mark only, never a reference
  if (++pool->outgrown_in_window > kTooMany) {
    ++pool->root_kind;
    pool->given_in_window = pool->outgrown_in_window = 0;
  }
}

namespace {

void* pool_alloc(void* ctx, size_t size) {
  auto* pool = static_cast<Pool*>(ctx);
  if (size != kChunkSize) return pool->next.alloc(pool->next.ctx, size);
  void* chunk = nullptr;
  if (!pool->dirty.empty()) {
    chunk = pool->dirty.back();
    pool->dirty.pop_back();
  } else if (!pool->clean.empty()) {
    chunk = pool->clean.back();
    pool->clean.pop_back();
  } else {
    auto* mapping = static_cast<char*>(map_anonymous(kChunkSize * kChunksPerMapping));
    if (!mapping) return nullptr;
    // Lowest address last so that chunks are handed out in address order.
    for (size_t i = kChunksPerMapping - 1; i >= 1; --i) pool->clean.push_back(mapping + i * kChunkSize);
    chunk = mapping;
  }
  ++pool->in_use;
  return chunk;
}

void pool_free(void* ctx, void* ptr, size_t size) {
  auto* pool = static_cast<Pool*>(ctx);
  if (int kind = root_kind_of(size); kind >= 0) {  // greenlet frees a finished greenlet's chunks here
    --pool->roots_in_use;
    if (pool->roots[kind].size() < kKeepRoots) {
      pool->roots[kind].push_back(ptr);
    } else if (size <= kLargestPymalloc) {
      PyObject_Free(ptr);
    } else {
      std::free(ptr);
    }
    return;
  }
  if (size != kChunkSize) {
    pool->next.free(pool->next.ctx, ptr, size);
    return;
  }
  // A chunk mapped before install() (the main thread's first one) joins the
  // pool like ours: it is the same kind of 16 KiB anonymous mapping.
  if (pool->in_use) --pool->in_use;
  if (pool->dirty.size() < kKeepDirty) {
    pool->dirty.push_back(ptr);
  } else {
    madvise(ptr, size, MADV_DONTNEED);
    pool->clean.push_back(ptr);
  }
}

}  // namespace

void install() {
  if (g_pool) return;
  g_pool = new Pool;  // lives as long as the process: chunks may outlive any finalizer
  PyObject_GetArenaAllocator(&g_pool->next);
  PyObjectArenaAllocator ours{g_pool, pool_alloc, pool_free};
  PyObject_SetArenaAllocator(&ours);
}

bool give_root_chunk_before(PyObject* callable) {
  Pool* pool = g_pool;
  if (!pool || pool->root_kind >= kRootKinds || PyCFunction_Check(callable)) return false;
  PyThreadState* tstate = PyThreadState_Get();
  if (tstate->datastack_chunk) return false;
  if (++pool->given_in_window > kWindow) pool->given_in_window = pool->outgrown_in_window = 0;
  const size_t size = kRootSizes[pool->root_kind];
  std::vector<void*>& freed = pool->roots[pool->root_kind];
  void* memory;
  if (!freed.empty()) {
    memory = freed.back();
    freed.pop_back();
  } else if (!(memory = size <= kLargestPymalloc ? PyObject_Malloc(size) : std::malloc(size))) {
    return false;  // CPython makes its own chunk as usual
  }
  ++pool->roots_in_use;
  auto* chunk = static_cast<_PyStackChunk*>(memory);
  chunk->previous = nullptr;
  chunk->size = size;
  chunk->top = 0;
  chunk->data[0] = nullptr;  // not outgrown yet
  tstate->datastack_chunk = chunk;
  // As CPython's push_chunk() does for a root chunk: data[0] stays unused,
  // so that popping the first frame never frees the root.
  tstate->datastack_top = &chunk->data[1];
  tstate->datastack_limit = reinterpret_cast<PyObject**>(static_cast<char*>(memory) + size);
  return true;
}

size_t root_chunk_size() {
  if (!g_pool || g_pool->root_kind >= kRootKinds) return 0;
  return kRootSizes[g_pool->root_kind];
}

Counts counts() {
  if (!g_pool) return {0, 0, 0, 0};
  return {g_pool->in_use, static_cast<unsigned long>(g_pool->dirty.size()),
          static_cast<unsigned long>(g_pool->clean.size()), g_pool->roots_in_use};
}

}  // namespace tf::core::stack_chunks
