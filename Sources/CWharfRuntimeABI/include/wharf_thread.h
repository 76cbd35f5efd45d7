#ifndef WHARF_THREAD_H
#define WHARF_THREAD_H

// Names the calling thread (Linux keeps the first 15 bytes), so that `top -H`, perf and
// /proc/PID/task/*/comm tell the serving threads apart. Returns 0 or an errno value.
int wharf_name_current_thread(const char *name);

// Tells the core that the caller is in a polling loop (x86 PAUSE, ARM YIELD): it eases the memory
// pipeline and the sibling hardware thread while a worker waits for work without sleeping.
static inline void wharf_cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif
