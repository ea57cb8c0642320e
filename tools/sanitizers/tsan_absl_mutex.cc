// ThreadSanitizer annotations for Debian's absl::Mutex and absl::CondVar.
//
// Debian builds libabsl_synchronization without -fsanitize=thread, so what
// happens inside its lock functions is invisible to TSan: every member of
// tqs1 guarded by an absl::Mutex would be reported as a data race although
// each access holds the lock. (absl's headers see -fsanitize=thread and the
// inline Mutex() constructor already calls __tsan_mutex_create; only the
// out-of-line half of absl's TSan support is missing.)
//
// This file defines the library's out-of-line lock functions in the
// executable, where they take precedence over libabsl_synchronization.so
// for every caller (tqs1's code, and gRPC, which locks through absl::Mutex
// too). Each forwards to the library's own function (dlsym RTLD_NEXT) and
// adds the annotations absl's mutex.cc makes in a TSan build, so TSan sees
// the same happens-before edges, lock sets and lock-order checks as with
// an instrumented absl. Nothing else changes: locking itself stays absl's.
//
// gRPC's own lock operations are annotated too (their happens-before edges
// order what gRPC's threads hand to tqs1's code), but with TSan's checks of
// the mutex's own memory turned off: gRPC is not instrumented either, so
// TSan cannot see how gRPC allocated that mutex and passed it to the
// locking thread, and would report a race on the mutex word itself.
//
// Linked into every binary that uses absl, and only under --config=tsan
// (see :absl in third_party/system_libs.BUILD).
#include <dlfcn.h>
#include <link.h>
#include <sanitizer/tsan_interface.h>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <string>

#include "absl/base/options.h"
#include "absl/synchronization/mutex.h"
#include "absl/time/time.h"

// In libtsan, not in its header: ignore this thread's memory accesses
// (nestable).
extern "C" void __tsan_ignore_thread_begin();
extern "C" void __tsan_ignore_thread_end();

#if !ABSL_OPTION_USE_INLINE_NAMESPACE
#error "the mangled names below assume absl's inline namespace"
#endif

namespace {

#define TQS1_TSAN_STRINGIFY_(x) #x
#define TQS1_TSAN_STRINGIFY(x) TQS1_TSAN_STRINGIFY_(x)

// The library's definition of the absl::<inline namespace>:: member whose
// mangled name ends in `rest` (e.g. "5Mutex4LockEv"). Aborts when it is
// missing: a binary that silently lost its annotations would report
// false races instead.
template <typename Fn>
Fn Real(const char* rest) {
  const char* ns = TQS1_TSAN_STRINGIFY(ABSL_OPTION_INLINE_NAMESPACE_NAME);
  const std::string name =
      "_ZN4absl" + std::to_string(std::strlen(ns)) + ns + rest;
  void* f = dlsym(RTLD_NEXT, name.c_str());
  if (f == nullptr) {
    std::fprintf(stderr, "tsan_absl_mutex: %s not found: %s\n", name.c_str(),
                 dlerror());
    std::abort();
  }
  return reinterpret_cast<Fn>(f);
}

// The code of Debian's gRPC libraries (libgrpc*.so, libgpr.so): callers
// there are not instrumented.
class UninstrumentedCode {
 public:
  static const UninstrumentedCode& Get() {
    static const UninstrumentedCode* const code = new UninstrumentedCode();
    return *code;
  }

  bool Contains(const void* pc) const {
    const auto address = reinterpret_cast<uintptr_t>(pc);
    for (int i = 0; i < count_; ++i) {
      if (address >= ranges_[i].begin && address < ranges_[i].end) {
        return true;
      }
    }
    return false;
  }

 private:
  struct Range {
    uintptr_t begin;
    uintptr_t end;
  };

  UninstrumentedCode() { dl_iterate_phdr(&Add, this); }

  static int Add(dl_phdr_info* info, size_t, void* data) {
    auto* self = static_cast<UninstrumentedCode*>(data);
    const char* slash = std::strrchr(info->dlpi_name, '/');
    const char* base = slash != nullptr ? slash + 1 : info->dlpi_name;
    if (std::strncmp(base, "libgrpc", 7) != 0 &&
        std::strncmp(base, "libgpr.", 7) != 0) {
      return 0;
    }
    for (int i = 0; i < info->dlpi_phnum; ++i) {
      const ElfW(Phdr)& segment = info->dlpi_phdr[i];
      if (segment.p_type != PT_LOAD || (segment.p_flags & PF_X) == 0) continue;
      if (self->count_ == static_cast<int>(std::size(self->ranges_))) break;
      const uintptr_t begin = info->dlpi_addr + segment.p_vaddr;
      self->ranges_[self->count_++] = {begin, begin + segment.p_memsz};
    }
    return 0;
  }

  Range ranges_[16] = {};
  int count_ = 0;
};

// For a lock operation called from gRPC's code: TSan ignores memory
// accesses (its checks of the mutex word) while it lives, but still
// records the synchronization.
class QuietIfFrom {
 public:
  explicit QuietIfFrom(const void* caller)
      : quiet_(UninstrumentedCode::Get().Contains(caller)) {
    if (quiet_) __tsan_ignore_thread_begin();
  }
  ~QuietIfFrom() {
    if (quiet_) __tsan_ignore_thread_end();
  }
  QuietIfFrom(const QuietIfFrom&) = delete;
  QuietIfFrom& operator=(const QuietIfFrom&) = delete;

 private:
  const bool quiet_;
};

constexpr unsigned kRead = __tsan_mutex_read_lock;

// What this thread is doing, so that a wrapped Condition (below) knows
// which annotations surround its evaluation.
struct ThreadState {
  // Inside this thread's own lock operation on this mutex (LockWhen...),
  // between __tsan_mutex_pre_lock and __tsan_mutex_post_lock.
  const absl::Mutex* locking = nullptr;
  // Inside this thread's Unlock()/ReaderUnlock() of this mutex, between
  // __tsan_mutex_pre_unlock and __tsan_mutex_post_unlock: absl evaluates
  // the waiters' conditions in the unlocking thread.
  const absl::Mutex* unlocking = nullptr;
  // Mutexes this thread holds in reader mode (Await and CondVar::Wait keep
  // the caller's mode). A plain array: thread_local state with a destructor
  // could be gone while other thread-exit code still locks.
  const absl::Mutex* read_held[16] = {};
  int reads = 0;
  // Inside one of the library's functions called from here. The library
  // calls some of them itself (AwaitWithTimeout calls AwaitWithDeadline);
  // those calls reach the definitions below too and must pass through
  // unannotated.
  bool in_absl = false;
};
thread_local ThreadState state;

void RememberReadHeld(const absl::Mutex* mu) {
  if (state.reads == static_cast<int>(std::size(state.read_held))) {
    std::fprintf(stderr, "tsan_absl_mutex: too many reader locks held\n");
    std::abort();
  }
  state.read_held[state.reads++] = mu;
}

void ForgetReadHeld(const absl::Mutex* mu) {
  const absl::Mutex** end = state.read_held + state.reads;
  const absl::Mutex** it = std::find(state.read_held, end, mu);
  if (it == end) return;
  *it = end[-1];
  --state.reads;
}

unsigned HeldMode(const absl::Mutex* mu) {
  const absl::Mutex** end = state.read_held + state.reads;
  return std::find(state.read_held, end, mu) != end ? kRead : 0;
}

// A whole release or acquisition of `mu`, e.g. one that happens inside the
// library (annotated before and after the call).
void AnnotateRelease(absl::Mutex* mu, unsigned flags) {
  __tsan_mutex_pre_unlock(mu, flags);
  __tsan_mutex_post_unlock(mu, flags);
}
void AnnotateAcquire(absl::Mutex* mu, unsigned flags) {
  __tsan_mutex_pre_lock(mu, flags);
  __tsan_mutex_post_lock(mu, flags, 0);
}

// A caller's Condition, evaluated with the annotations absl's
// EvalConditionAnnotated() makes: TSan must see the condition's reads as
// made under the lock, whichever thread absl evaluates it on.
class AnnotatedCondition {
 public:
  AnnotatedCondition(absl::Mutex* mu, const absl::Condition& cond,
                     unsigned flags)
      : mu_(mu), cond_(&cond), flags_(flags) {}

  // The condition to give absl. Call it before the lock operation's first
  // annotation: absl hands it to other threads in code TSan cannot see, so
  // this publishes what the calling thread set up (this object, the
  // caller's Condition and what it refers to) for Eval() to acquire.
  absl::Condition condition() {
    __tsan_release(this);
    return absl::Condition(&Eval, this);
  }

 private:
  static bool Eval(void* arg) {
    auto* self = static_cast<AnnotatedCondition*>(arg);
    // The caller's code runs here, outside the library's.
    state.in_absl = false;
    // Read before the acquisition below (which must follow the annotations
    // that end TSan's ignored regions): unchecked.
    __tsan_ignore_thread_begin();
    absl::Mutex* const mu = self->mu_;
    const absl::Condition* const cond = self->cond_;
    const unsigned flags = self->flags_;
    __tsan_ignore_thread_end();
    auto evaluate = [self, cond] {
      __tsan_acquire(self);
      return cond->Eval();
    };
    bool result;
    if (state.locking == mu) {
      // Pretend the lock operation finished, evaluate, then unlock and
      // start locking again to match its closing annotation.
      __tsan_mutex_post_lock(mu, flags, 0);
      result = evaluate();
      AnnotateRelease(mu, flags);
      __tsan_mutex_pre_lock(mu, flags);
    } else if (state.unlocking == mu) {
      // Pretend the unlock finished, lock, evaluate, then start unlocking
      // again to match its closing annotation.
      __tsan_mutex_post_unlock(mu, flags);
      AnnotateAcquire(mu, flags);
      result = evaluate();
      __tsan_mutex_pre_unlock(mu, flags);
    } else {
      // In Await or CondVar::Wait, which already annotated the release:
      // evaluate as a short critical section of its own.
      AnnotateAcquire(mu, flags);
      result = evaluate();
      AnnotateRelease(mu, flags);
    }
    state.in_absl = true;
    return result;
  }

  absl::Mutex* const mu_;
  const absl::Condition* const cond_;
  const unsigned flags_;
};

// A call into the library from one of the definitions below: sets
// ThreadState::in_absl and, for lock and unlock operations, which mutex
// this thread is locking or unlocking.
class LibraryCall {
 public:
  explicit LibraryCall(const absl::Mutex** slot = nullptr,
                       const absl::Mutex* mu = nullptr)
      : slot_(slot),
        previous_(slot != nullptr ? *slot : nullptr),
        was_in_absl_(state.in_absl) {
    state.in_absl = true;
    if (slot_ != nullptr) *slot_ = mu;
  }
  ~LibraryCall() {
    if (slot_ != nullptr) *slot_ = previous_;
    state.in_absl = was_in_absl_;
  }
  LibraryCall(const LibraryCall&) = delete;
  LibraryCall& operator=(const LibraryCall&) = delete;

 private:
  const absl::Mutex** const slot_;
  const absl::Mutex* const previous_;
  const bool was_in_absl_;
};

// Plain lock and unlock operations.
template <typename Fn>
void LockAnnotated(Fn real, const void* caller, absl::Mutex* mu,
                   unsigned flags) {
  if (state.in_absl) return real(mu);
  QuietIfFrom quiet(caller);
  __tsan_mutex_pre_lock(mu, flags);
  {
    LibraryCall call;
    real(mu);
  }
  __tsan_mutex_post_lock(mu, flags, 0);
  if (flags & kRead) RememberReadHeld(mu);
}

template <typename Fn>
bool TryLockAnnotated(Fn real, const void* caller, absl::Mutex* mu,
                      unsigned flags) {
  if (state.in_absl) return real(mu);
  QuietIfFrom quiet(caller);
  flags |= __tsan_mutex_try_lock;
  __tsan_mutex_pre_lock(mu, flags);
  bool locked;
  {
    LibraryCall call;
    locked = real(mu);
  }
  __tsan_mutex_post_lock(
      mu, locked ? flags : flags | __tsan_mutex_try_lock_failed, 0);
  if (locked && (flags & kRead)) RememberReadHeld(mu);
  return locked;
}

template <typename Fn>
void UnlockAnnotated(Fn real, const void* caller, absl::Mutex* mu,
                     unsigned flags) {
  if (state.in_absl) return real(mu);
  QuietIfFrom quiet(caller);
  if (flags & kRead) ForgetReadHeld(mu);
  __tsan_mutex_pre_unlock(mu, flags);
  {
    LibraryCall call(&state.unlocking, mu);
    real(mu);
  }
  __tsan_mutex_post_unlock(mu, flags);
}

// Lock operations with a condition (LockWhen and its variants).
template <typename Fn, typename... Args>
auto LockWhenAnnotated(Fn real, const void* caller, absl::Mutex* mu,
                       unsigned flags, const absl::Condition& cond,
                       Args... args) {
  if (state.in_absl) return real(mu, cond, args...);
  QuietIfFrom quiet(caller);
  AnnotatedCondition annotated(mu, cond, flags);
  const absl::Condition condition = annotated.condition();
  __tsan_mutex_pre_lock(mu, flags);
  auto result = [&] {
    LibraryCall call(&state.locking, mu);
    return real(mu, condition, args...);
  }();
  __tsan_mutex_post_lock(mu, flags, 0);
  if (flags & kRead) RememberReadHeld(mu);
  return result;
}

// Await and its variants: called with the lock held, in either mode.
template <typename Fn, typename... Args>
auto AwaitAnnotated(Fn real, const void* caller, absl::Mutex* mu,
                    const absl::Condition& cond, Args... args) {
  if (state.in_absl) return real(mu, cond, args...);
  QuietIfFrom quiet(caller);
  const unsigned flags = HeldMode(mu);
  AnnotatedCondition annotated(mu, cond, flags);
  const absl::Condition condition = annotated.condition();
  AnnotateRelease(mu, flags);
  auto result = [&] {
    LibraryCall call;
    return real(mu, condition, args...);
  }();
  AnnotateAcquire(mu, flags);
  return result;
}

// CondVar::Wait and its variants.
template <typename Fn, typename... Args>
auto WaitAnnotated(Fn real, const void* caller, absl::CondVar* cv,
                   absl::Mutex* mu, Args... args) {
  if (state.in_absl) return real(cv, mu, args...);
  QuietIfFrom quiet(caller);
  const unsigned flags = HeldMode(mu);
  AnnotateRelease(mu, flags);
  auto result = [&] {
    LibraryCall call;
    return real(cv, mu, args...);
  }();
  AnnotateAcquire(mu, flags);
  return result;
}

// For the functions returning void: the templates above need a value.
struct Void {};
template <typename Fn>
auto ReturningVoid(Fn fn) {
  return [fn](auto... args) {
    fn(args...);
    return Void{};
  };
}

}  // namespace

namespace absl {
ABSL_NAMESPACE_BEGIN

// The mangled names' tails: "NS0_" is absl::<inline namespace>.
#define TQS1_COND "ERKNS0_9ConditionE"

void Mutex::Lock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex4LockEv");
  LockAnnotated(real, __builtin_return_address(0), this, 0);
}

void Mutex::ReaderLock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex10ReaderLockEv");
  LockAnnotated(real, __builtin_return_address(0), this, kRead);
}

bool Mutex::TryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex7TryLockEv");
  return TryLockAnnotated(real, __builtin_return_address(0), this, 0);
}

bool Mutex::ReaderTryLock() {
  static const auto real = Real<bool (*)(Mutex*)>("5Mutex13ReaderTryLockEv");
  return TryLockAnnotated(real, __builtin_return_address(0), this, kRead);
}

void Mutex::Unlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex6UnlockEv");
  UnlockAnnotated(real, __builtin_return_address(0), this, 0);
}

void Mutex::ReaderUnlock() {
  static const auto real = Real<void (*)(Mutex*)>("5Mutex12ReaderUnlockEv");
  UnlockAnnotated(real, __builtin_return_address(0), this, kRead);
}

void Mutex::LockWhen(const Condition& cond) {
  static const auto real = ReturningVoid(
      Real<void (*)(Mutex*, const Condition&)>("5Mutex8LockWhen" TQS1_COND));
  LockWhenAnnotated(real, __builtin_return_address(0), this, 0, cond);
}

void Mutex::ReaderLockWhen(const Condition& cond) {
  static const auto real =
      ReturningVoid(Real<void (*)(Mutex*, const Condition&)>(
          "5Mutex14ReaderLockWhen" TQS1_COND));
  LockWhenAnnotated(real, __builtin_return_address(0), this, kRead, cond);
}

bool Mutex::LockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex19LockWhenWithTimeout" TQS1_COND "NS0_8DurationE");
  return LockWhenAnnotated(real, __builtin_return_address(0), this, 0, cond,
                           timeout);
}

bool Mutex::ReaderLockWhenWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex25ReaderLockWhenWithTimeout" TQS1_COND "NS0_8DurationE");
  return LockWhenAnnotated(real, __builtin_return_address(0), this, kRead, cond,
                           timeout);
}

bool Mutex::LockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex20LockWhenWithDeadline" TQS1_COND "NS0_4TimeE");
  return LockWhenAnnotated(real, __builtin_return_address(0), this, 0, cond,
                           deadline);
}

bool Mutex::ReaderLockWhenWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex26ReaderLockWhenWithDeadline" TQS1_COND "NS0_4TimeE");
  return LockWhenAnnotated(real, __builtin_return_address(0), this, kRead, cond,
                           deadline);
}

void Mutex::Await(const Condition& cond) {
  static const auto real = ReturningVoid(
      Real<void (*)(Mutex*, const Condition&)>("5Mutex5Await" TQS1_COND));
  AwaitAnnotated(real, __builtin_return_address(0), this, cond);
}

bool Mutex::AwaitWithTimeout(const Condition& cond, Duration timeout) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Duration)>(
      "5Mutex16AwaitWithTimeout" TQS1_COND "NS0_8DurationE");
  return AwaitAnnotated(real, __builtin_return_address(0), this, cond, timeout);
}

bool Mutex::AwaitWithDeadline(const Condition& cond, Time deadline) {
  static const auto real = Real<bool (*)(Mutex*, const Condition&, Time)>(
      "5Mutex17AwaitWithDeadline" TQS1_COND "NS0_4TimeE");
  return AwaitAnnotated(real, __builtin_return_address(0), this, cond,
                        deadline);
}

Mutex::~Mutex() {
  static const auto real = Real<void (*)(Mutex*)>("5MutexD2Ev");
  if (state.in_absl) {
    real(this);
    return;
  }
  QuietIfFrom quiet(__builtin_return_address(0));
  {
    LibraryCall call;
    real(this);
  }
  // As absl's own destructor does in a TSan build: a mutex TSan learned
  // about from its inline constructor is forgotten, so the memory can be
  // reused.
  __tsan_mutex_destroy(this, __tsan_mutex_not_static);
}

void CondVar::Wait(Mutex* mu) {
  static const auto real = ReturningVoid(
      Real<void (*)(CondVar*, Mutex*)>("7CondVar4WaitEPNS0_5MutexE"));
  WaitAnnotated(real, __builtin_return_address(0), this, mu);
}

bool CondVar::WaitWithTimeout(Mutex* mu, Duration timeout) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Duration)>(
      "7CondVar15WaitWithTimeoutEPNS0_5MutexENS0_8DurationE");
  return WaitAnnotated(real, __builtin_return_address(0), this, mu, timeout);
}

bool CondVar::WaitWithDeadline(Mutex* mu, Time deadline) {
  static const auto real = Real<bool (*)(CondVar*, Mutex*, Time)>(
      "7CondVar16WaitWithDeadlineEPNS0_5MutexENS0_4TimeE");
  return WaitAnnotated(real, __builtin_return_address(0), this, mu, deadline);
}

#undef TQS1_COND

ABSL_NAMESPACE_END
}  // namespace absl
