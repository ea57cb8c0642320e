// ThreadSanitizer suppressions for Debian's gRPC, the parts of absl it
// passes between its threads, OpenSSL under gRPC's TLS, and absl's
// StrError, none of which is built with -fsanitize=thread.
//
// TSan still checks the memory that these libraries' own code hands to
// intercepted libc functions (memcpy, memcmp, recvmsg, operator new and
// delete, ...), but it cannot see the lock-free hand-offs between gRPC's
// threads, nor the reference counts of absl::Status and absl::Cord (gRPC's
// errors and their payloads), which order those accesses: their atomics
// are inside the uninstrumented libraries. So it reports races between two
// of gRPC's threads on gRPC's own buffers and errors: e.g. memcpy in
// grpc_slice_copy on an executor thread against recvmsg on the polling
// thread, or the delete in absl::Status::UnrefNonInlined of an error
// against its allocation (absl::Status::SetPayload, absl::Cord) on the
// thread that created it. The same holds for OpenSSL's buffers during a
// TLS handshake of gRPC's threads: a free in libssl on one gRPC thread
// against a memcpy in libcrypto on another, ordered by OpenSSL's own
// (uninstrumented) locks.
//
// absl::ErrnoToStatus formats errno through absl's StrError, which builds
// its table of messages once, in a function-local static of
// libabsl_strerror. A thread that finds the static already built takes the
// guard's fast path, an uninstrumented acquire load, so TSan reports the
// table's allocation on the first thread against the memcpy out of it on
// the next (tsan_absl_strerror_test.cc shows it).
//
// `called_from_lib` makes TSan ignore the memory accesses of interceptors
// called directly from the named libraries, and nothing else: gRPC's locks
// still order tqs1's accesses (tsan_absl_mutex.cc), and every access made
// by tqs1's own (instrumented) code, including to what gRPC passes to it,
// is still checked.
extern "C" const char* __tsan_default_suppressions() {
  return "called_from_lib:libgrpc.so\n"
         "called_from_lib:libgrpc++.so\n"
         "called_from_lib:libgrpc++_reflection.so\n"
         "called_from_lib:libgpr.so\n"
         "called_from_lib:libupb.so\n"
         "called_from_lib:libabsl_status.so\n"
         "called_from_lib:libabsl_cord.so\n"
         "called_from_lib:libssl.so\n"
         "called_from_lib:libcrypto.so\n"
         "called_from_lib:libabsl_strerror.so\n";
}
