// A pool of reusable slots named by (generation << 32) | (index + 1).
// Names are never 0; releasing a slot bumps its generation, so an old name
// finds nothing. Slots live in fixed-size chunks that never move: a pointer
// to a slot (or to memory inside it that the kernel was given) stays valid
// until the slot is released.
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

namespace tf::hub {

template <class T>
class SlotPool {
 public:
  struct Slot {
    uint32_t generation = 1;
    uint32_t index = 0;
    bool live = false;
    T value{};
    uint64_t name() const { return (uint64_t{generation} << 32) | (uint64_t{index} + 1); }
  };

  Slot& acquire() {
    if (free_.empty()) grow();
    uint32_t index = free_.back();
    free_.pop_back();
    Slot& s = at(index);
    s.live = true;
    ++live_;
    return s;
  }

  Slot* find(uint64_t name) {
    uint32_t index_plus_one = static_cast<uint32_t>(name);
    if (index_plus_one == 0 || index_plus_one > capacity()) return nullptr;
    Slot& s = at(index_plus_one - 1);
    if (!s.live || s.generation != static_cast<uint32_t>(name >> 32)) return nullptr;
    return &s;
  }

  void release(Slot& s) {
    s.live = false;
    s.value = T{};  // also clears what a kernel wrote, before the slot is reused
    // Generations stay in 1..2^31-1: a live name never has a zero high half,
    // and bit 63 is free for callers to tag names of another kind.
    if (++s.generation >= 0x80000000u) s.generation = 1;
    free_.push_back(s.index);
    --live_;
  }

  size_t live() const { return live_; }
  size_t capacity() const { return chunks_.size() * kChunkSize; }

 private:
  static constexpr uint32_t kChunkSize = 256;
  Slot& at(uint32_t index) { return chunks_[index / kChunkSize][index % kChunkSize]; }
  void grow() {
    uint32_t base = static_cast<uint32_t>(capacity());
    chunks_.emplace_back(new Slot[kChunkSize]);
    free_.reserve(free_.size() + kChunkSize);
    for (uint32_t i = kChunkSize; i-- > 0;) {
      chunks_.back()[i].index = base + i;
      free_.push_back(base + i);
    }
  }

  std::vector<std::unique_ptr<Slot[]>> chunks_;
  std::vector<uint32_t> free_;
  size_t live_ = 0;
};

}  // namespace tf::hub
