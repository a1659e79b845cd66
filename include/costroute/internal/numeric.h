// Internal: floating-point helpers for scikit-learn parity. Installed, not
// API; may change without notice.
#ifndef COSTROUTE_INTERNAL_NUMERIC_H_
#define COSTROUTE_INTERNAL_NUMERIC_H_

namespace costroute::internal {

// Returns `v` unchanged, but hides it from the optimizer so that a product
// passed through here is rounded before it is added to anything: the
// compiler cannot fuse the two into an FMA. Parity with scikit-learn needs
// every product rounded on its own, and these headers are compiled with the
// host's flags (-march=native or AArch64, where GCC contracts by default),
// so -ffp-contract=off on our own targets alone would not be enough. Free
// at run time: the barrier emits no instruction.
inline double fp_barrier(double v) {
#if defined(__GNUC__) && (defined(__x86_64__) || defined(__i386__)) && \
    defined(__SSE2__)
  asm("" : "+x"(v));
#elif defined(__GNUC__) && defined(__aarch64__)
  asm("" : "+w"(v));
#else
  volatile double copy = v;
  v = copy;
#endif
  return v;
}

}  // namespace costroute::internal

#endif  // COSTROUTE_INTERNAL_NUMERIC_H_
