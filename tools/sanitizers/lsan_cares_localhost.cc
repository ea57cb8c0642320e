// LeakSanitizer suppression for a leak in Debian 12's c-ares (1.18.1), the
// DNS resolver gRPC uses: each ares_gethostbyname() of a name answered
// locally, such as "localhost", leaks the copy of the name it makes
// (ares_strdup: 10 bytes for "localhost"; c-ares issue #439, fixed in later
// c-ares releases). A gRPC channel to "localhost:PORT" resolves it once.
//
// Compiled in rather than given as LSAN_OPTIONS=suppressions=FILE: it needs
// no path that holds both inside Bazel's test sandbox and in a direct run,
// and it applies only to the binaries that link it, not to every test of
// --config=asan. The pattern matches the allocation's frames in
// libcares.so only: a leak of tqs1's (or gRPC's) objects is still reported.
extern "C" const char* __lsan_default_suppressions() {
  return "leak:libcares.so\n";
}
