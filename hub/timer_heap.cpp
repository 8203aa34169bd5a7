#include "hub/timer_heap.hpp"

namespace tf::hub {

bool TimerHeap::before(uint32_t a, uint32_t b) const {
  const Entry& x = entries_[a];
  const Entry& y = entries_[b];
  return x.deadline < y.deadline || (x.deadline == y.deadline && x.sequence < y.sequence);
}

void TimerHeap::place(uint32_t pos, uint32_t entry) {
  heap_[pos] = entry;
  entries_[entry].heap_pos = pos;
}

void TimerHeap::sift_up(uint32_t pos) {
  uint32_t entry = heap_[pos];
  while (pos > 0) {
    uint32_t parent = (pos - 1) / 2;
    if (!before(entry, heap_[parent])) break;
    place(pos, heap_[parent]);
    pos = parent;
  }
  place(pos, entry);
}

void TimerHeap::sift_down(uint32_t pos) {
  uint32_t entry = heap_[pos];
  uint32_t n = static_cast<uint32_t>(heap_.size());
  for (;;) {
    uint32_t child = 2 * pos + 1;
    if (child >= n) break;
    if (child + 1 < n && before(heap_[child + 1], heap_[child])) ++child;
    if (!before(heap_[child], entry)) break;
    place(pos, heap_[child]);
    pos = child;
  }
  place(pos, entry);
}

TimerId TimerHeap::add(Clock::time_point deadline, uint64_t token) {
  uint32_t index;
  if (free_.empty()) {
    index = static_cast<uint32_t>(entries_.size());
    entries_.emplace_back();
  } else {
    index = free_.back();
    free_.pop_back();
  }
  Entry& e = entries_[index];
  e.deadline = deadline;
  e.sequence = next_sequence_++;
  e.token = token;
  heap_.push_back(index);
  e.heap_pos = static_cast<uint32_t>(heap_.size() - 1);
  sift_up(e.heap_pos);
  return TimerId{(uint64_t{e.generation} << 32) | (uint64_t{index} + 1)};
}

void TimerHeap::remove_at(uint32_t pos) {
  uint32_t index = heap_[pos];
  Entry& e = entries_[index];
  e.heap_pos = kNotInHeap;
  if (++e.generation == 0) e.generation = 1;
  free_.push_back(index);
  uint32_t last = heap_.back();
  heap_.pop_back();
  if (pos < heap_.size()) {
    place(pos, last);
    if (pos > 0 && before(last, heap_[(pos - 1) / 2])) {
      sift_up(pos);
    } else {
      sift_down(pos);
    }
  }
}

bool TimerHeap::cancel(TimerId id) {
  uint32_t index_plus_one = static_cast<uint32_t>(id.raw);
  if (index_plus_one == 0 || index_plus_one > entries_.size()) return false;
  Entry& e = entries_[index_plus_one - 1];
  if (e.generation != static_cast<uint32_t>(id.raw >> 32) || e.heap_pos == kNotInHeap) return false;
  remove_at(e.heap_pos);
  return true;
}

std::optional<Clock::time_point> TimerHeap::next_deadline() const {
  if (heap_.empty()) return std::nullopt;
  return entries_[heap_[0]].deadline;
}

}  // namespace tf::hub
