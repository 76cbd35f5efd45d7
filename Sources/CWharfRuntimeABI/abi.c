// The ABI declarations are in include/; besides them this target holds one thread helper that
// needs a GNU extension of glibc.
#define _GNU_SOURCE
#include <pthread.h>
#include <string.h>

#include "wharf_thread.h"

int wharf_name_current_thread(const char *name) {
    char truncated[16];
    strncpy(truncated, name, sizeof truncated - 1);
    truncated[sizeof truncated - 1] = '\0';
#ifdef __APPLE__
    return pthread_setname_np(truncated);
#else
    return pthread_setname_np(pthread_self(), truncated);
#endif
}
