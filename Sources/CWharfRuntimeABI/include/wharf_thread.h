#ifndef WHARF_THREAD_H
#define WHARF_THREAD_H

// Names the calling thread (Linux keeps the first 15 bytes), so that `top -H`, perf and
// /proc/PID/task/*/comm tell the serving threads apart. Returns 0 or an errno value.
int wharf_name_current_thread(const char *name);

#endif
