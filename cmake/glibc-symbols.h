/* Force-included in every C++ file the Zig toolchain compiles (cmake/zig-toolchain.cmake).
 *
 * Zig links its compiler_rt into a library that needs any of its helpers (128-bit division,
 * say), and compiler_rt also defines memcpy, memmove, memset, memcmp, bcmp and strlen, as weak
 * symbols of plain generic code. A definition in the library wins over glibc's, so the engine
 * lost glibc's tuned versions (strlen alone took 10 % of a page conversion, 4x glibc's). These
 * directives bind the references of each file to glibc's own symbols, by version. */
/* The directives count only after the functions are declared. */
#include <string.h>
#if defined(__linux__) && defined(__GLIBC__)
#if defined(__x86_64__)
__asm__(".symver memcpy, memcpy@GLIBC_2.14");
__asm__(".symver memmove, memmove@GLIBC_2.2.5");
__asm__(".symver memset, memset@GLIBC_2.2.5");
__asm__(".symver memcmp, memcmp@GLIBC_2.2.5");
__asm__(".symver bcmp, bcmp@GLIBC_2.2.5");
__asm__(".symver strlen, strlen@GLIBC_2.2.5");
#elif defined(__aarch64__)
__asm__(".symver memcpy, memcpy@GLIBC_2.17");
__asm__(".symver memmove, memmove@GLIBC_2.17");
__asm__(".symver memset, memset@GLIBC_2.17");
__asm__(".symver memcmp, memcmp@GLIBC_2.17");
__asm__(".symver bcmp, bcmp@GLIBC_2.17");
__asm__(".symver strlen, strlen@GLIBC_2.17");
#endif
#endif
