/*
 * Shared declarations for the cellucid_hdf5 Node-API addon.
 *
 * The addon is deliberately small: it exposes one class (NativeFile) whose
 * methods map almost 1:1 onto HDF5 calls. All policy (argument defaults,
 * value normalisation, AnnData conventions) lives in the TypeScript wrapper
 * src/anndata/h5/binding.ts so the C side only has to be correct, not clever.
 *
 * Conventions used throughout the C files:
 *  - every napi_* call is checked with NAPI_CHECK; on failure we return NULL
 *    so the pending JS exception (if any) propagates to the caller;
 *  - every HDF5 failure is turned into a thrown JS Error by h5err_throw(),
 *    which names the operation and the object path. It must be called right
 *    after the failing call: every HDF5 API entry clears the error stack, so
 *    even an H5Pclose in between would lose the message;
 *  - every hid_t opened in a function is closed in that function (we use a
 *    single "cleanup:" label per function), so no HDF5 object outlives a call.
 */
#ifndef CELLUCID_HDF5_COMMON_H
#define CELLUCID_HDF5_COMMON_H

#define NAPI_VERSION 8
#include <node_api.h>
#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "txn.h"

/* Check a napi call; on failure throw (if nothing is pending) and bail out. */
#define NAPI_CHECK(env, call)                                  \
  do {                                                         \
    napi_status status_ = (call);                              \
    if (status_ != napi_ok) {                                  \
      napi_throw_last_error((env));                            \
      return NULL;                                             \
    }                                                          \
  } while (0)

/* Same, but jump to the function's cleanup label instead of returning. */
#define NAPI_CHECK_GOTO(env, call, label)                      \
  do {                                                         \
    napi_status status_ = (call);                              \
    if (status_ != napi_ok) {                                  \
      napi_throw_last_error((env));                            \
      goto label;                                              \
    }                                                          \
  } while (0)

/* State wrapped inside each JS NativeFile instance. fid < 0 means closed. */
typedef struct {
  hid_t fid;
  char *filename;   /* for error messages; owned */
  Session *session; /* the journaling driver's state for this open (vfd.c) */
} H5FileState;

/* ---- errors.c ---------------------------------------------------------- */
void h5err_init(void);
void napi_throw_last_error(napi_env env);
/* Throw "<op> '<path>': <HDF5 error stack summary>" and clear the stack. */
void h5err_throw(napi_env env, const char *op, const char *path);
/* Throw "<op> '<path>': <detail>" for errors detected by the addon itself. */
void h5err_throw_msg(napi_env env, const char *op, const char *path,
                     const char *detail);
/* Throw an Error whose `code` is LOCKED, NO_SPACE, PERMISSION_DENIED or IO. */
void h5err_throw_io(napi_env env, const IoError *e);

/* ---- napi_util.c ------------------------------------------------------- */
/* Parse `this` + up to `want` args; throws if the file is closed.
 * Returns NULL (with a pending exception) on failure. */
H5FileState *napi_get_file(napi_env env, napi_callback_info info,
                           size_t want, napi_value *argv, const char *op);
/* Copy a JS string argument into a malloc'd UTF-8 buffer (caller frees). */
char *napi_dup_string(napi_env env, napi_value value, const char *what);
napi_value napi_make_string(napi_env env, const char *s, size_t len);
/* Convert an int64/uint64 to a JS number when exact, else to a BigInt. */
napi_value napi_make_int64(napi_env env, int64_t v);
napi_value napi_make_uint64(napi_env env, uint64_t v);

/* ---- types.c ----------------------------------------------------------- */
typedef enum {
  DT_INVALID = 0,
  DT_BOOL,
  DT_INT8, DT_INT16, DT_INT32, DT_INT64,
  DT_UINT8, DT_UINT16, DT_UINT32, DT_UINT64,
  DT_FLOAT32, DT_FLOAT64,
  DT_STRING
} DType;

const char *dtype_name(DType dt);
DType dtype_from_name(const char *name);
/* Classify an HDF5 datatype; DT_INVALID for unsupported classes. */
DType dtype_from_h5(hid_t type);
/* Size in bytes of one element in memory (strings: sizeof(char *)). */
size_t dtype_mem_size(DType dt);
/* True when `type` is h5py's boolean enum {FALSE: 0, TRUE: 1}. */
bool h5type_is_h5py_bool(hid_t type);
/* New h5py-compatible bool enum over int8 (caller closes). */
hid_t h5type_make_bool(void);
/* New variable-length UTF-8 string type as h5py.string_dtype() (caller closes). */
hid_t h5type_make_vlen_utf8(void);
/* Memory type used to read/write numeric+bool dtypes (caller closes). */
hid_t h5type_mem_for(DType dt);
/* File type used when creating datasets/attributes (caller closes). */
hid_t h5type_file_for(DType dt);
/* JS typed array kind matching a numeric dtype. */
napi_typedarray_type dtype_typedarray(DType dt);
/* Decode `n` string elements read from an object of string type `ftype`
 * into a JS array (handles both vlen and fixed-length layouts). `buf` holds
 * either char* pointers (vlen) or n*size bytes (fixed). */
/* The same strings as one JS string, NUL between them (JS splits it: far
 * cheaper than an N-API call per element); an array when they are huge. */
napi_value h5_strings_joined_to_js(napi_env env, hid_t ftype, const void *buf,
                                   size_t n);
napi_value h5_strings_to_js(napi_env env, hid_t ftype, const void *buf,
                            size_t n);
/* The same strings as their UTF-8 bytes back to back and where each ends:
 * [Uint8Array, Uint32Array], string i being bytes[ends[i - 1], ends[i]).
 * For callers that copy names into text without a JS string for each. */
napi_value h5_strings_utf8_to_js(napi_env env, hid_t ftype, const void *buf,
                                 size_t n);
/* Memory type for reading strings stored with file type `ftype`. */
hid_t h5type_mem_string_for(hid_t ftype);
/* Collect a JS string[] into malloc'd char* array (caller: free_cstrings). */
char **js_to_cstrings(napi_env env, napi_value arr, uint32_t *out_n);
void free_cstrings(char **strs, uint32_t n);

/* ---- file.c ------------------------------------------------------------ */
napi_value file_ctor(napi_env env, napi_callback_info info);
napi_value file_close(napi_env env, napi_callback_info info);
napi_value file_abort(napi_env env, napi_callback_info info);
napi_value file_io_failure(napi_env env, napi_callback_info info);
napi_value file_recovered(napi_env env, napi_callback_info info);
napi_value file_recover(napi_env env, napi_callback_info info);
napi_value file_is_open(napi_env env, napi_callback_info info);
napi_value file_exists(napi_env env, napi_callback_info info);
napi_value file_kind(napi_env env, napi_callback_info info);
napi_value file_list(napi_env env, napi_callback_info info);
napi_value file_create_group(napi_env env, napi_callback_info info);
napi_value file_move_link(napi_env env, napi_callback_info info);
napi_value file_delete_link(napi_env env, napi_callback_info info);
/* Whether `path` resolves to an object (never throws, never logs). */
bool h5_path_exists(hid_t fid, const char *path);
/* Link-creation plist creating missing parent groups (caller closes). */
hid_t h5_make_lcpl(void);
/* Borrow the contents of a JS TypedArray argument (throws TypeError). */
bool napi_get_typed(napi_env env, napi_value v, napi_typedarray_type want,
                    void **data, size_t *length, const char *what);

/* ---- attrs.c ----------------------------------------------------------- */
napi_value attrs_read(napi_env env, napi_callback_info info);
napi_value attrs_write(napi_env env, napi_callback_info info);
napi_value attrs_delete(napi_env env, napi_callback_info info);
/* Creates (or, unless `fresh`, replaces) attribute `name` on the open object `obj`. */
bool h5_write_attr(napi_env env, hid_t obj, const char *path, const char *name,
                   DType dt, napi_value data, bool scalar, bool fresh);
/* Writes createDataset's [name, dtype, data, scalar] entries on the new object `obj`. */
bool h5_write_attr_list(napi_env env, hid_t obj, const char *path, napi_value list);

/* ---- datasets.c -------------------------------------------------------- */
napi_value dataset_info(napi_env env, napi_callback_info info);
napi_value dataset_read(napi_env env, napi_callback_info info);
napi_value dataset_create(napi_env env, napi_callback_info info);

#endif
