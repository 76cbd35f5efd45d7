// Everything the module offers: a header added here (rather than only dropped into include/)
// invalidates the compiler's cached module, so builds that already ran see it.
#include "wharf_onnxruntime.h"
#include "wharf_tensorflow.h"
#include "wharf_thread.h"
