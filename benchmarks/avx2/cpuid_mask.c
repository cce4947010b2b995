/*
 * cpuid_mask.c: make an AVX-512 + VNNI x86-64 machine look like an AVX2-only one to the
 * libraries that choose their kernels from CPUID (ONNX Runtime's MLAS, torch's cpuinfo and
 * oneDNN, numpy), so that issue 20's speed target, named for an AVX2-only CPU, is measured on
 * the code paths such a CPU runs. An LD_PRELOAD library:
 *
 *   LD_PRELOAD=.eval/avx2/cpuid_mask.so python ...   (benchmarks/avx2_emulation.py builds it)
 *
 * How: Linux's CPUID faulting (arch_prctl ARCH_SET_CPUID; the CPU flag "cpuid_fault") makes
 * every CPUID instruction of this thread raise SIGSEGV. Our handler executes the real CPUID,
 * clears the AVX-512 / VNNI / AMX bits, writes the result into the faulting thread's registers
 * and steps over the instruction. The faulting state is per thread and inherited by threads
 * and forks; execve resets it, and the LD_PRELOAD variable, inherited, sets it again in every
 * program a child runs.
 *
 * Also served filtered: /proc/cpuinfo, whose "flags" lines lose the same features, since
 * some code (ours: assistant/embedders/onnx_cache.py cpu_features()) reads them instead.
 *
 * What it cannot hide: the CPUID calls made before this constructor runs, i.e. the dynamic
 * loader's own (glibc picks its memcpy/strlen variants there; avx2_env() also sets
 * GLIBC_TUNABLES to mask those), and XGETBV, which does not fault and still says the ZMM
 * state is enabled: harmless, since every library checks the CPUID bit as well. Programs that
 * install signal handlers with the raw rt_sigaction syscall (not through libc) would replace
 * ours; Python and the C/C++ libraries it loads go through libc.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#ifndef ARCH_GET_CPUID
#define ARCH_GET_CPUID 0x1011
#define ARCH_SET_CPUID 0x1012
#endif

#define BIT(n) (1u << (n))

/* Leaf 7 subleaf 0: what an AVX2-only CPU without VNNI does not report. */
static const unsigned MASK_7_0_EBX = BIT(16) | BIT(17) | BIT(21) | BIT(26) | BIT(27)
    | BIT(28) | BIT(30) | BIT(31);   /* AVX512 F DQ IFMA PF ER CD BW VL */
static const unsigned MASK_7_0_ECX = BIT(1) | BIT(6) | BIT(11) | BIT(12)
    | BIT(14);                       /* AVX512 VBMI VBMI2 VNNI BITALG VPOPCNTDQ (GFNI, VAES kept) */
static const unsigned MASK_7_0_EDX = BIT(2) | BIT(3) | BIT(8) | BIT(22) | BIT(23) | BIT(24)
    | BIT(25);                       /* 4VNNIW 4FMAPS VP2INTERSECT AMX-BF16 FP16 AMX-TILE AMX-INT8 */
/* Leaf 7 subleaf 1: the VEX-encoded VNNI family and the rest of AVX-512 / AVX10. */
static const unsigned MASK_7_1_EAX = BIT(4) | BIT(5) | BIT(21)
    | BIT(23);                       /* AVX-VNNI AVX512-BF16 AMX-FP16 AVX-IFMA */
static const unsigned MASK_7_1_EDX = BIT(4) | BIT(5) | BIT(10)
    | BIT(19);                       /* AVX-VNNI-INT8 AVX-NE-CONVERT AVX-VNNI-INT16 AVX10 */

static long emulated;                /* CPUIDs answered (CPUID_MASK_DEBUG=1 prints it at exit) */

/* The program's own SIGSEGV disposition: what it asked sigaction()/signal() for. Ours stays
 * installed (else CPUID would kill it); faults that are not CPUID go to this one. */
static struct sigaction app_action = {.sa_handler = SIG_DFL};

static int (*real_sigaction)(int, const struct sigaction *, struct sigaction *);

static long set_cpuid(int enabled) { return syscall(SYS_arch_prctl, ARCH_SET_CPUID, enabled); }

static void native_cpuid(unsigned leaf, unsigned sub, unsigned r[4]) {
    __asm__ volatile("cpuid" : "=a"(r[0]), "=b"(r[1]), "=c"(r[2]), "=d"(r[3])
                     : "a"(leaf), "c"(sub));
}

static void on_segv(int sig, siginfo_t *info, void *context) {
    ucontext_t *uc = context;
    greg_t *reg = uc->uc_mcontext.gregs;
    const unsigned char *ip = (const unsigned char *)reg[REG_RIP];
    /* A faulting CPUID is a general-protection fault (SI_KERNEL) at a 0F A2; only then is the
     * instruction pointer known to point at readable code. */
    if (info->si_code == SI_KERNEL && ip[0] == 0x0F && ip[1] == 0xA2) {
        unsigned leaf = (unsigned)reg[REG_RAX], sub = (unsigned)reg[REG_RCX], r[4];
        /* Async-signal-safe: two syscalls and the instruction itself, on this thread only. */
        set_cpuid(1);
        native_cpuid(leaf, sub, r);
        set_cpuid(0);
        if (leaf == 7 && sub == 0) {
            r[1] &= ~MASK_7_0_EBX;
            r[2] &= ~MASK_7_0_ECX;
            r[3] &= ~MASK_7_0_EDX;
        } else if (leaf == 7 && sub == 1) {
            r[0] &= ~MASK_7_1_EAX;
            r[3] &= ~MASK_7_1_EDX;
        }
        /* CPUID writes the low 32 bits and zeroes the high ones: so does this. */
        reg[REG_RAX] = r[0];
        reg[REG_RBX] = r[1];
        reg[REG_RCX] = r[2];
        reg[REG_RDX] = r[3];
        reg[REG_RIP] += 2;
        __atomic_add_fetch(&emulated, 1, __ATOMIC_RELAXED);
        return;
    }
    /* Not ours: the program's handler if it set one, else the fault it would have had. */
    if (app_action.sa_handler == SIG_DFL || app_action.sa_handler == SIG_IGN) {
        struct sigaction dfl = {.sa_handler = SIG_DFL};
        real_sigaction(SIGSEGV, &dfl, NULL);
        /* A real fault recurs on return, now fatal; a sent signal (kill, raise) must be sent
         * again (it is blocked until this handler returns). */
        if (info->si_code <= 0)
            raise(sig);
        return;
    }
    struct sigaction app = app_action;
    if (app.sa_flags & SA_RESETHAND)
        app_action.sa_handler = SIG_DFL;
    if (app.sa_flags & SA_SIGINFO)
        app.sa_sigaction(sig, info, context);
    else
        app.sa_handler(sig);
}

/* sigaction/signal for SIGSEGV record the program's wish and keep our handler; the rest pass. */
int sigaction(int sig, const struct sigaction *act, struct sigaction *old) {
    if (!real_sigaction)
        real_sigaction = dlsym(RTLD_NEXT, "sigaction");
    if (sig != SIGSEGV)
        return real_sigaction(sig, act, old);
    if (old)
        *old = app_action;
    if (act)
        app_action = *act;
    return 0;
}

sighandler_t signal(int sig, sighandler_t handler) {
    static sighandler_t (*real_signal)(int, sighandler_t);
    if (!real_signal)
        real_signal = (sighandler_t(*)(int, sighandler_t))dlsym(RTLD_NEXT, "signal");
    if (sig != SIGSEGV)
        return real_signal(sig, handler);
    sighandler_t previous = app_action.sa_handler;
    struct sigaction act = {.sa_handler = handler, .sa_flags = SA_RESTART};
    sigaction(SIGSEGV, &act, NULL);
    return previous;
}

/* /proc/cpuinfo with the masked features left out of its "flags" lines, as a memfd. */
static int is_masked_flag(const char *word, size_t n) {
    static const char *prefixes[] = {"avx512", "avx_vnni", "avx_ifma", "avx10", "amx"};
    for (size_t i = 0; i < sizeof prefixes / sizeof *prefixes; i++) {
        size_t p = strlen(prefixes[i]);
        if (n >= p && memcmp(word, prefixes[i], p) == 0)
            return 1;
    }
    return 0;
}

static int filtered_cpuinfo(int flags) {
    /* Raw syscalls for the real file: our own open() would come back here. */
    int in = (int)syscall(SYS_openat, AT_FDCWD, "/proc/cpuinfo", O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return -1;
    int out = memfd_create("cpuinfo", (flags & O_CLOEXEC) ? MFD_CLOEXEC : 0);
    if (out < 0) {
        close(in);
        return -1;
    }
    FILE *src = fdopen(in, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    while (src && (len = getline(&line, &cap, src)) > 0) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "flags", 5) != 0 || !colon) {
            write(out, line, (size_t)len);
            continue;
        }
        /* Keep "flags\t\t:" and every word that is not a masked feature. */
        write(out, line, (size_t)(colon + 1 - line));
        char *rest = NULL;
        for (char *word = strtok_r(colon + 1, " \n", &rest); word;
             word = strtok_r(NULL, " \n", &rest)) {
            if (!is_masked_flag(word, strlen(word))) {
                write(out, " ", 1);
                write(out, word, strlen(word));
            }
        }
        write(out, "\n", 1);
    }
    free(line);
    if (src)
        fclose(src);
    else
        close(in);
    lseek(out, 0, SEEK_SET);
    return out;
}

static int is_cpuinfo(const char *path) { return path && strcmp(path, "/proc/cpuinfo") == 0; }

#define FORWARD_OPEN(name, ...)                                                              \
    static int (*real)(__VA_ARGS__, ...);                                                     \
    if (!real)                                                                                \
        real = (int (*)(__VA_ARGS__, ...))dlsym(RTLD_NEXT, name);

int open(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_arg(ap, mode_t);
    va_end(ap);
    if (is_cpuinfo(path) && (flags & O_ACCMODE) == O_RDONLY)
        return filtered_cpuinfo(flags);
    FORWARD_OPEN("open", const char *, int)
    return real(path, flags, mode);
}

int open64(const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_arg(ap, mode_t);
    va_end(ap);
    if (is_cpuinfo(path) && (flags & O_ACCMODE) == O_RDONLY)
        return filtered_cpuinfo(flags);
    FORWARD_OPEN("open64", const char *, int)
    return real(path, flags, mode);
}

int openat(int dir, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_arg(ap, mode_t);
    va_end(ap);
    if (is_cpuinfo(path) && (flags & O_ACCMODE) == O_RDONLY)  /* absolute: dir is ignored */
        return filtered_cpuinfo(flags);
    FORWARD_OPEN("openat", int, const char *, int)
    return real(dir, path, flags, mode);
}

int openat64(int dir, const char *path, int flags, ...) {
    va_list ap;
    va_start(ap, flags);
    mode_t mode = va_arg(ap, mode_t);
    va_end(ap);
    if (is_cpuinfo(path) && (flags & O_ACCMODE) == O_RDONLY)
        return filtered_cpuinfo(flags);
    FORWARD_OPEN("openat64", int, const char *, int)
    return real(dir, path, flags, mode);
}

/* What the fortified open() of C code compiled with _FORTIFY_SOURCE calls. */
int __open_2(const char *path, int flags) { return open(path, flags, 0); }
int __open64_2(const char *path, int flags) { return open64(path, flags, 0); }

/* fopen calls glibc's internal open, not ours: interposed on its own. */
static FILE *fopen_any(const char *name, const char *path, const char *mode) {
    if (is_cpuinfo(path) && mode[0] == 'r' && !strchr(mode, '+')) {
        int fd = filtered_cpuinfo(strchr(mode, 'e') ? O_CLOEXEC : 0);
        return fd < 0 ? NULL : fdopen(fd, "r");
    }
    FILE *(*real)(const char *, const char *) =
        (FILE * (*)(const char *, const char *)) dlsym(RTLD_NEXT, name);
    return real(path, mode);
}

FILE *fopen(const char *path, const char *mode) { return fopen_any("fopen", path, mode); }
FILE *fopen64(const char *path, const char *mode) { return fopen_any("fopen64", path, mode); }

static void report(void) {
    if (getenv("CPUID_MASK_DEBUG"))
        fprintf(stderr, "cpuid_mask: %ld CPUID instructions answered in pid %d\n",
                __atomic_load_n(&emulated, __ATOMIC_RELAXED), (int)getpid());
}

__attribute__((constructor)) static void install(void) {
    if (!real_sigaction)
        real_sigaction = dlsym(RTLD_NEXT, "sigaction");
    /* Any SIGSEGV handler set before us (none in a fresh process) becomes the program's. */
    struct sigaction ours = {.sa_sigaction = on_segv, .sa_flags = SA_SIGINFO | SA_ONSTACK};
    sigemptyset(&ours.sa_mask);
    real_sigaction(SIGSEGV, &ours, &app_action);
    if (app_action.sa_sigaction == on_segv)
        app_action.sa_handler = SIG_DFL;
    if (set_cpuid(0) != 0) {
        /* No CPUID faulting here: say so, rather than measure the native paths as AVX2. */
        fprintf(stderr, "cpuid_mask: arch_prctl(ARCH_SET_CPUID, 0) failed: this CPU or kernel "
                        "has no CPUID faulting (cpuid_fault); the CPU is not masked\n");
        _exit(97);
    }
    atexit(report);
}
