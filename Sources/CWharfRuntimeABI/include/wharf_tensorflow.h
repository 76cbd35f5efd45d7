// Wharf's own declarations of the pieces of the TensorFlow C API (libtensorflow_cc.so.2 and its
// dependency libtensorflow_framework.so.2) that Wharf calls. Nothing here is linked: every function
// is looked up with dlsym at run time and called through the pointer types below.
#ifndef WHARF_TENSORFLOW_H
#define WHARF_TENSORFLOW_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Opaque runtime objects; Wharf only ever holds pointers to them.
typedef struct wharf_tf_status wharf_tf_status;
typedef struct wharf_tf_graph wharf_tf_graph;
typedef struct wharf_tf_session wharf_tf_session;
typedef struct wharf_tf_session_options wharf_tf_session_options;
typedef struct wharf_tf_operation wharf_tf_operation;
typedef struct wharf_tf_tensor wharf_tf_tensor;

/// A byte buffer handed across the C API (serialized protobufs in and out).
typedef struct wharf_tf_buffer {
    const void *data;
    size_t length;
    void (*data_deallocator)(void *data, size_t length);
} wharf_tf_buffer;

/// One output (or input) endpoint of a graph operation.
typedef struct wharf_tf_output {
    wharf_tf_operation *oper;
    int index;
} wharf_tf_output;

/// TensorFlow's in-tensor string representation: 24 opaque bytes managed by the TF_String* calls.
typedef struct wharf_tf_tstring {
    uint8_t raw[24];
} wharf_tf_tstring;

typedef void (*wharf_tf_deallocator)(void *data, size_t length, void *arg);

typedef const char *(*wharf_tf_version_fn)(void);

typedef wharf_tf_status *(*wharf_tf_new_status_fn)(void);
typedef void (*wharf_tf_delete_status_fn)(wharf_tf_status *);
typedef int (*wharf_tf_get_code_fn)(const wharf_tf_status *);
typedef const char *(*wharf_tf_message_fn)(const wharf_tf_status *);

typedef wharf_tf_buffer *(*wharf_tf_new_buffer_fn)(void);
typedef void (*wharf_tf_delete_buffer_fn)(wharf_tf_buffer *);

typedef wharf_tf_graph *(*wharf_tf_new_graph_fn)(void);
typedef void (*wharf_tf_delete_graph_fn)(wharf_tf_graph *);
typedef wharf_tf_operation *(*wharf_tf_graph_operation_by_name_fn)(wharf_tf_graph *, const char *);
typedef int (*wharf_tf_operation_output_type_fn)(wharf_tf_output);

typedef wharf_tf_session_options *(*wharf_tf_new_session_options_fn)(void);
typedef void (*wharf_tf_delete_session_options_fn)(wharf_tf_session_options *);
typedef void (*wharf_tf_set_config_fn)(wharf_tf_session_options *, const void *proto, size_t length,
                                       wharf_tf_status *);

typedef wharf_tf_session *(*wharf_tf_load_session_from_saved_model_fn)(
    const wharf_tf_session_options *options, const wharf_tf_buffer *run_options, const char *export_dir,
    const char *const *tags, int tag_count, wharf_tf_graph *graph, wharf_tf_buffer *meta_graph_def,
    wharf_tf_status *status);
typedef void (*wharf_tf_close_session_fn)(wharf_tf_session *, wharf_tf_status *);
typedef void (*wharf_tf_delete_session_fn)(wharf_tf_session *, wharf_tf_status *);
typedef void (*wharf_tf_session_run_fn)(
    wharf_tf_session *session, const wharf_tf_buffer *run_options, const wharf_tf_output *inputs,
    wharf_tf_tensor *const *input_values, int input_count, const wharf_tf_output *outputs,
    wharf_tf_tensor **output_values, int output_count, const wharf_tf_operation *const *targets,
    int target_count, wharf_tf_buffer *run_metadata, wharf_tf_status *status);

typedef wharf_tf_tensor *(*wharf_tf_new_tensor_fn)(int dtype, const int64_t *dims, int dim_count, void *data,
                                                   size_t length, wharf_tf_deallocator deallocator,
                                                   void *deallocator_arg);
typedef wharf_tf_tensor *(*wharf_tf_allocate_tensor_fn)(int dtype, const int64_t *dims, int dim_count,
                                                        size_t length);
typedef void (*wharf_tf_delete_tensor_fn)(wharf_tf_tensor *);
typedef int (*wharf_tf_tensor_type_fn)(const wharf_tf_tensor *);
typedef int (*wharf_tf_num_dims_fn)(const wharf_tf_tensor *);
typedef int64_t (*wharf_tf_dim_fn)(const wharf_tf_tensor *, int index);
typedef size_t (*wharf_tf_tensor_byte_size_fn)(const wharf_tf_tensor *);
typedef void *(*wharf_tf_tensor_data_fn)(const wharf_tf_tensor *);
typedef int64_t (*wharf_tf_tensor_element_count_fn)(const wharf_tf_tensor *);

typedef void (*wharf_tf_string_init_fn)(wharf_tf_tstring *);
typedef void (*wharf_tf_string_copy_fn)(wharf_tf_tstring *, const char *source, size_t length);
typedef const char *(*wharf_tf_string_get_data_pointer_fn)(const wharf_tf_tstring *);
typedef size_t (*wharf_tf_string_get_size_fn)(const wharf_tf_tstring *);
typedef void (*wharf_tf_string_dealloc_fn)(wharf_tf_tstring *);

#ifdef __cplusplus
}
#endif

#endif
