// Wharf's own declarations of the ONNX Runtime C API pieces Wharf calls. The runtime exports one
// symbol, OrtGetApiBase; everything else is a function pointer in the versioned API table it
// returns. Wharf reads that table as an array of pointers and calls slots through the types below
// (the slot numbers live in Swift, ORTSlot).
#ifndef WHARF_ONNXRUNTIME_H
#define WHARF_ONNXRUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct wharf_ort_status wharf_ort_status;
typedef struct wharf_ort_env wharf_ort_env;
typedef struct wharf_ort_session wharf_ort_session;
typedef struct wharf_ort_session_options wharf_ort_session_options;
typedef struct wharf_ort_run_options wharf_ort_run_options;
typedef struct wharf_ort_value wharf_ort_value;
typedef struct wharf_ort_type_info wharf_ort_type_info;
typedef struct wharf_ort_tensor_info wharf_ort_tensor_info;
typedef struct wharf_ort_memory_info wharf_ort_memory_info;
typedef struct wharf_ort_allocator wharf_ort_allocator;
typedef struct wharf_ort_model_metadata wharf_ort_model_metadata;

/// The table OrtGetApiBase returns: the versioned API getter and the version string.
typedef struct wharf_ort_api_base {
    const void *const *(*get_api)(uint32_t version);
    const char *(*get_version_string)(void);
} wharf_ort_api_base;

typedef const wharf_ort_api_base *(*wharf_ort_get_api_base_fn)(void);

// Status handling.
typedef int (*wharf_ort_get_error_code_fn)(const wharf_ort_status *);
typedef const char *(*wharf_ort_get_error_message_fn)(const wharf_ort_status *);

// Environment and sessions.
typedef wharf_ort_status *(*wharf_ort_create_env_fn)(int log_level, const char *log_id, wharf_ort_env **out);
typedef wharf_ort_status *(*wharf_ort_env_call_fn)(const wharf_ort_env *);
typedef wharf_ort_status *(*wharf_ort_create_session_fn)(const wharf_ort_env *, const char *model_path,
                                                          const wharf_ort_session_options *, wharf_ort_session **out);
typedef wharf_ort_status *(*wharf_ort_run_fn)(wharf_ort_session *, const wharf_ort_run_options *,
                                               const char *const *input_names, const wharf_ort_value *const *inputs,
                                               size_t input_count, const char *const *output_names,
                                               size_t output_count, wharf_ort_value **outputs);

// Session options.
typedef wharf_ort_status *(*wharf_ort_create_session_options_fn)(wharf_ort_session_options **out);
typedef wharf_ort_status *(*wharf_ort_session_options_int_fn)(wharf_ort_session_options *, int value);
typedef wharf_ort_status *(*wharf_ort_session_options_call_fn)(wharf_ort_session_options *);
typedef wharf_ort_status *(*wharf_ort_add_session_config_entry_fn)(wharf_ort_session_options *, const char *key,
                                                                    const char *value);

// Session introspection.
typedef wharf_ort_status *(*wharf_ort_session_count_fn)(const wharf_ort_session *, size_t *out);
typedef wharf_ort_status *(*wharf_ort_session_type_info_fn)(const wharf_ort_session *, size_t index,
                                                             wharf_ort_type_info **out);
typedef wharf_ort_status *(*wharf_ort_session_name_fn)(const wharf_ort_session *, size_t index,
                                                        wharf_ort_allocator *, char **out);
typedef wharf_ort_status *(*wharf_ort_cast_type_info_to_tensor_info_fn)(const wharf_ort_type_info *,
                                                                         const wharf_ort_tensor_info **out);
typedef wharf_ort_status *(*wharf_ort_get_onnx_type_fn)(const wharf_ort_type_info *, int *out);
typedef wharf_ort_status *(*wharf_ort_get_tensor_element_type_fn)(const wharf_ort_tensor_info *, int *out);
typedef wharf_ort_status *(*wharf_ort_get_dimensions_count_fn)(const wharf_ort_tensor_info *, size_t *out);
typedef wharf_ort_status *(*wharf_ort_get_dimensions_fn)(const wharf_ort_tensor_info *, int64_t *dims, size_t count);
typedef wharf_ort_status *(*wharf_ort_get_symbolic_dimensions_fn)(const wharf_ort_tensor_info *, const char **names,
                                                                   size_t count);
typedef wharf_ort_status *(*wharf_ort_session_get_model_metadata_fn)(const wharf_ort_session *,
                                                                      wharf_ort_model_metadata **out);
typedef wharf_ort_status *(*wharf_ort_model_metadata_string_fn)(const wharf_ort_model_metadata *,
                                                                 wharf_ort_allocator *, char **out);
typedef wharf_ort_status *(*wharf_ort_model_metadata_version_fn)(const wharf_ort_model_metadata *, int64_t *out);

// Values.
typedef wharf_ort_status *(*wharf_ort_create_tensor_as_value_fn)(wharf_ort_allocator *, const int64_t *shape,
                                                                  size_t shape_count, int element_type,
                                                                  wharf_ort_value **out);
typedef wharf_ort_status *(*wharf_ort_create_tensor_with_data_fn)(const wharf_ort_memory_info *, void *data,
                                                                   size_t data_length, const int64_t *shape,
                                                                   size_t shape_count, int element_type,
                                                                   wharf_ort_value **out);
typedef wharf_ort_status *(*wharf_ort_is_tensor_fn)(const wharf_ort_value *, int *out);
typedef wharf_ort_status *(*wharf_ort_get_tensor_mutable_data_fn)(wharf_ort_value *, void **out);
typedef wharf_ort_status *(*wharf_ort_fill_string_tensor_fn)(wharf_ort_value *, const char *const *strings,
                                                              size_t count);
typedef wharf_ort_status *(*wharf_ort_get_string_tensor_data_length_fn)(const wharf_ort_value *, size_t *out);
typedef wharf_ort_status *(*wharf_ort_get_string_tensor_content_fn)(const wharf_ort_value *, void *bytes,
                                                                     size_t byte_count, size_t *offsets,
                                                                     size_t offset_count);
typedef wharf_ort_status *(*wharf_ort_get_tensor_type_and_shape_fn)(const wharf_ort_value *,
                                                                     wharf_ort_tensor_info **out);
typedef wharf_ort_status *(*wharf_ort_get_tensor_shape_element_count_fn)(const wharf_ort_tensor_info *,
                                                                          size_t *out);

// Memory.
typedef wharf_ort_status *(*wharf_ort_create_cpu_memory_info_fn)(int allocator_type, int mem_type,
                                                                  wharf_ort_memory_info **out);
typedef wharf_ort_status *(*wharf_ort_get_allocator_with_default_options_fn)(wharf_ort_allocator **out);
typedef wharf_ort_status *(*wharf_ort_allocator_free_fn)(wharf_ort_allocator *, void *pointer);

/// Every Release* slot has this shape.
typedef void (*wharf_ort_release_fn)(void *object);

#ifdef __cplusplus
}
#endif

#endif
