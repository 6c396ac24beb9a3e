/* internal.h: declarations shared between the files of sandbox/ only
 * (target //sandbox:internal, private to the package). */
#ifndef REDOUBT_SANDBOX_INTERNAL_H
#define REDOUBT_SANDBOX_INTERNAL_H

/* SANDBOX_SANITIZER_BUILD is defined in sanitizer builds (--config=asan,
 * --config=tsan): their runtimes make system calls a release binary never
 * does, reserve terabytes of shadow memory (no RLIMIT_AS) and read their
 * options from the environment. Release builds never see it. */
#if defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer) || \
    __has_feature(undefined_behavior_sanitizer)
#define SANDBOX_SANITIZER_BUILD 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__) || \
    defined(__SANITIZE_UNDEFINED__)
#define SANDBOX_SANITIZER_BUILD 1
#endif

#endif
