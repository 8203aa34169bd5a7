#include "hub/python/stack_chunks.hpp"

#include <Python.h>
#include <sys/mman.h>

#include <cstddef>
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

struct Pool {
  std::vector<void*> dirty;  // freed, pages still resident: reused first
  std::vector<void*> clean;  // never touched, or pages returned
  unsigned long in_use = 0;
  PyObjectArenaAllocator next{};  // what was installed before us
};

Pool* g_pool = nullptr;

void* map_anonymous(size_t size) {
  void* p = mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

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

Counts counts() {
  if (!g_pool) return {0, 0, 0};
  return {g_pool->in_use, static_cast<unsigned long>(g_pool->dirty.size()),
          static_cast<unsigned long>(g_pool->clean.size())};
}

}  // namespace tf::core::stack_chunks
