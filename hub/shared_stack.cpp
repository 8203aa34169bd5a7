#include "hub/shared_stack.hpp"

#include <atomic>
#include <cstdlib>
#include <cstring>

#if !defined(__x86_64__)
#error "SharedStack's switch is written for x86-64 (System V)"
#endif

// tf_stack_switch(save_sp, next_sp, then, ctx): pushes the callee-saved
// registers (and the SSE/x87 control words) on the current stack, stores the
// stack pointer in *save_sp, calls then(sp, ctx) if given (still on this
// stack, below what it saved), then continues on next_sp, whose top holds
// what an earlier switch pushed there.
//
// tf_stack_start(save_sp, top, entry, arg): the same save, then calls
// entry(arg) on a fresh stack ending at top (entry never returns; it leaves
// by switching to *save_sp).
//
// Either call "returns" when something later switches to the stack pointer
// it saved.
extern "C" void tf_stack_start(void** save_sp, void* top, void (*entry)(void*), void* arg);

asm(R"(
  // What the System V ABI makes a callee keep: rbp, rbx, r12-r15, and the
  // SSE and x87 control words; 64 bytes with the return address.
  .macro tf_save_callee_saved
  pushq %rbp
  .cfi_adjust_cfa_offset 8
  pushq %rbx
  .cfi_adjust_cfa_offset 8
  pushq %r12
  .cfi_adjust_cfa_offset 8
  pushq %r13
  .cfi_adjust_cfa_offset 8
  pushq %r14
  .cfi_adjust_cfa_offset 8
  pushq %r15
  .cfi_adjust_cfa_offset 8
  subq $8, %rsp
  .cfi_adjust_cfa_offset 8
  stmxcsr (%rsp)
  fnstcw 4(%rsp)
  .endm

  .text
  .p2align 4
  .globl tf_stack_switch
  .hidden tf_stack_switch
  .type tf_stack_switch,@function
tf_stack_switch:
  .cfi_startproc
  tf_save_callee_saved
  movq %rsp, (%rdi)
  testq %rdx, %rdx
  jz 1f
  movq %rsi, %r12
  movq %rsp, %rdi
  movq %rcx, %rsi
  callq *%rdx
  movq %r12, %rsi
1:
  movq %rsi, %rsp
  ldmxcsr (%rsp)
  fldcw 4(%rsp)
  addq $8, %rsp
  .cfi_adjust_cfa_offset -8
  popq %r15
  .cfi_adjust_cfa_offset -8
  popq %r14
  .cfi_adjust_cfa_offset -8
  popq %r13
  .cfi_adjust_cfa_offset -8
  popq %r12
  .cfi_adjust_cfa_offset -8
  popq %rbx
  .cfi_adjust_cfa_offset -8
  popq %rbp
  .cfi_adjust_cfa_offset -8
  ret
  .cfi_endproc
  .size tf_stack_switch, .-tf_stack_switch

  .p2align 4
  .globl tf_stack_start
  .hidden tf_stack_start
  .type tf_stack_start,@function
tf_stack_start:
  .cfi_startproc
  tf_save_callee_saved
  movq %rsp, (%rdi)
  movq %rsi, %rsp
  .cfi_undefined rip
  xorl %ebp, %ebp
  movq %rcx, %rdi
  callq *%rdx
  ud2
  .cfi_endproc
  .size tf_stack_start, .-tf_stack_start
)");

namespace tf::hub {

namespace {
// Every live copy, every thread's: for memory statistics only.
std::atomic<size_t> g_saved_copies{0};
std::atomic<size_t> g_saved_bytes{0};
}  // namespace

// Runs on the suspending coroutine's stack, below `sp`: nothing it does
// touches the bytes it copies.
void SharedStack::save_below_base(void* sp, void* stack) {
  auto* self = static_cast<SharedStack*>(stack);
  char*& bytes = *self->saving_bytes_;
  uint32_t& saved_size = *self->saving_size_;
  size_t size = static_cast<size_t>(self->base_ - static_cast<char*>(sp));
  // Exact size: a parked coroutine keeps this copy for as long as it waits.
  if (!bytes || saved_size != size) {
    if (bytes) g_saved_bytes.fetch_sub(saved_size, std::memory_order_relaxed);
    else g_saved_copies.fetch_add(1, std::memory_order_relaxed);
    std::free(bytes);
    g_saved_bytes.fetch_add(size, std::memory_order_relaxed);
    bytes = static_cast<char*>(std::malloc(size));
    if (!bytes) std::abort();  // nowhere to put the frames; nothing to unwind to
    saved_size = static_cast<uint32_t>(size);
  }
  std::memcpy(bytes, sp, size);
}

void SharedStack::note_released(uint32_t size) {
  g_saved_bytes.fetch_sub(size, std::memory_order_relaxed);
  g_saved_copies.fetch_sub(1, std::memory_order_relaxed);
}

SharedStack::SavedTotals SharedStack::saved_totals() {
  return {g_saved_copies.load(std::memory_order_relaxed), g_saved_bytes.load(std::memory_order_relaxed)};
}

void SavedStack::release() {
  if (bytes) SharedStack::note_released(size);
  std::free(bytes);
  bytes = nullptr;
  size = 0;
}

SharedStack::SharedStack(void* base)
    : base_(reinterpret_cast<char*>(reinterpret_cast<uintptr_t>(base) & ~uintptr_t{15})) {}

char* SharedStack::stack_pointer() { return static_cast<char*>(__builtin_frame_address(0)); }

void SharedStack::start(void (*entry)(void*), void* arg) {
  if (running_) std::abort();  // a coroutine would overwrite its own frames
  running_ = true;
  tf_stack_start(&resumer_sp_, base_, entry, arg);
  running_ = false;
}

void SharedStack::resume(const char* bytes, uint32_t size) {
  if (running_) std::abort();
  running_ = true;
  char* sp = base_ - size;
  std::memcpy(sp, bytes, size);
  tf_stack_switch(&resumer_sp_, sp, nullptr, nullptr);
  running_ = false;
}

void SharedStack::exit() {
  void* abandoned;
  tf_stack_switch(&abandoned, resumer_sp_, nullptr, nullptr);
  __builtin_unreachable();
}

}  // namespace tf::hub
