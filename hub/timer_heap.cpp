#include "hub/timer_heap.hpp"

namespace tf::hub {

void TimerHeap::place(uint32_t pos, const Node& node) {
  heap_[pos] = node;
  entries_[node.entry].heap_pos = pos;
}

// Moves `node`, meant for slot pos, up to where it belongs.
void TimerHeap::sift_up(uint32_t pos, Node node) {
  while (pos > 0) {
    uint32_t parent = (pos - 1) / kArity;
    if (!before(node, heap_[parent])) break;
    place(pos, heap_[parent]);
    pos = parent;
  }
  place(pos, node);
}

// Moves `node`, meant for slot pos, down to where it belongs.
void TimerHeap::sift_down(uint32_t pos, Node node) {
  uint32_t n = static_cast<uint32_t>(heap_.size());
  for (;;) {
    uint32_t first = kArity * pos + 1;
    if (first >= n) break;
    uint32_t last = first + kArity < n ? first + kArity : n;
    uint32_t best = first;
    for (uint32_t c = first + 1; c < last; ++c) {
      if (before(heap_[c], heap_[best])) best = c;
    }
    if (!before(heap_[best], node)) break;
    place(pos, heap_[best]);
    pos = best;
  }
  place(pos, node);
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
  e.token = token;
  heap_.push_back(Node{});
  sift_up(static_cast<uint32_t>(heap_.size() - 1), Node{deadline, next_sequence_++, index});
  return TimerId{(uint64_t{e.generation} << 32) | (uint64_t{index} + 1)};
}

void TimerHeap::remove_at(uint32_t pos) {
  Entry& e = entries_[heap_[pos].entry];
  e.heap_pos = kNotInHeap;
  if (++e.generation == 0) e.generation = 1;
  free_.push_back(heap_[pos].entry);
  Node last = heap_.back();
  heap_.pop_back();
  if (pos < heap_.size()) {
    if (pos > 0 && before(last, heap_[(pos - 1) / kArity])) {
      sift_up(pos, last);
    } else {
      sift_down(pos, last);
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
  return heap_[0].deadline;
}

}  // namespace tf::hub
