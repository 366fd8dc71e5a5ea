/*
 * Datatype helpers: the mapping between HDF5 datatypes and the small set of
 * dtype names exposed to JS, plus the two h5py conventions AnnData relies on:
 *   - booleans are an enum {FALSE: 0, TRUE: 1} over int8 (HDF5 has no bool);
 *   - strings are variable-length, UTF-8, null-terminated (h5py.string_dtype()).
 * Writing exactly these types is what makes Python's anndata read our columns
 * back as `bool` and `str` rather than int8 / bytes.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static const char *const DTYPE_NAMES[] = {
    "invalid", "bool",  "int8",   "int16",   "int32",   "int64",   "uint8",
    "uint16",  "uint32", "uint64", "float32", "float64", "string"};

const char *dtype_name(DType dt) { return DTYPE_NAMES[dt]; }

DType dtype_from_name(const char *name) {
  for (int i = DT_BOOL; i <= DT_STRING; i++)
    if (strcmp(name, DTYPE_NAMES[i]) == 0) return (DType)i;
  return DT_INVALID;
}

static DType integer_dtype(size_t size, bool is_signed) {
  switch (size) {
    case 1: return is_signed ? DT_INT8 : DT_UINT8;
    case 2: return is_signed ? DT_INT16 : DT_UINT16;
    case 4: return is_signed ? DT_INT32 : DT_UINT32;
    case 8: return is_signed ? DT_INT64 : DT_UINT64;
    default: return DT_INVALID;
  }
}

bool h5type_is_h5py_bool(hid_t type) {
  if (H5Tget_class(type) != H5T_ENUM || H5Tget_nmembers(type) != 2) return false;
  hid_t super = H5Tget_super(type);
  if (super < 0) return false;
  bool ok = H5Tget_size(super) == 1;
  H5Tclose(super);
  /* Member values are stored in the base type: exactly one byte here. */
  for (unsigned i = 0; ok && i < 2; i++) {
    int8_t value = -1;
    char *name = H5Tget_member_name(type, i);
    if (!name || H5Tget_member_value(type, i, &value) < 0) ok = false;
    else if (strcmp(name, "FALSE") == 0) ok = value == 0;
    else if (strcmp(name, "TRUE") == 0) ok = value == 1;
    else ok = false;
    if (name) H5free_memory(name);
  }
  return ok;
}

DType dtype_from_h5(hid_t type) {
  switch (H5Tget_class(type)) {
    case H5T_INTEGER:
      return integer_dtype(H5Tget_size(type), H5Tget_sign(type) != H5T_SGN_NONE);
    case H5T_FLOAT:
      switch (H5Tget_size(type)) {
        case 4: return DT_FLOAT32;
        case 8: return DT_FLOAT64;
        default: return DT_INVALID; /* float16 / long double: unsupported */
      }
    case H5T_STRING:
      return DT_STRING;
    case H5T_ENUM: {
      if (h5type_is_h5py_bool(type)) return DT_BOOL;
      /* Other enums are exposed as their integer base type. */
      hid_t super = H5Tget_super(type);
      if (super < 0) return DT_INVALID;
      DType dt = dtype_from_h5(super);
      H5Tclose(super);
      return dt;
    }
    default:
      return DT_INVALID;
  }
}

size_t dtype_mem_size(DType dt) {
  switch (dt) {
    case DT_BOOL: case DT_INT8: case DT_UINT8: return 1;
    case DT_INT16: case DT_UINT16: return 2;
    case DT_INT32: case DT_UINT32: case DT_FLOAT32: return 4;
    case DT_INT64: case DT_UINT64: case DT_FLOAT64: return 8;
    case DT_STRING: return sizeof(char *);
    default: return 0;
  }
}

hid_t h5type_make_bool(void) {
  hid_t t = H5Tenum_create(H5T_NATIVE_INT8);
  if (t < 0) return -1;
  int8_t f = 0, tr = 1;
  if (H5Tenum_insert(t, "FALSE", &f) < 0 || H5Tenum_insert(t, "TRUE", &tr) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

hid_t h5type_make_vlen_utf8(void) {
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return -1;
  if (H5Tset_size(t, H5T_VARIABLE) < 0 || H5Tset_cset(t, H5T_CSET_UTF8) < 0 ||
      H5Tset_strpad(t, H5T_STR_NULLTERM) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

/* Predefined type ids must not be closed, so both helpers below return
 * copies: callers can then H5Tclose() unconditionally. */
hid_t h5type_mem_for(DType dt) {
  switch (dt) {
    case DT_BOOL: return h5type_make_bool();
    case DT_INT8: return H5Tcopy(H5T_NATIVE_INT8);
    case DT_INT16: return H5Tcopy(H5T_NATIVE_INT16);
    case DT_INT32: return H5Tcopy(H5T_NATIVE_INT32);
    case DT_INT64: return H5Tcopy(H5T_NATIVE_INT64);
    case DT_UINT8: return H5Tcopy(H5T_NATIVE_UINT8);
    case DT_UINT16: return H5Tcopy(H5T_NATIVE_UINT16);
    case DT_UINT32: return H5Tcopy(H5T_NATIVE_UINT32);
    case DT_UINT64: return H5Tcopy(H5T_NATIVE_UINT64);
    case DT_FLOAT32: return H5Tcopy(H5T_NATIVE_FLOAT);
    case DT_FLOAT64: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case DT_STRING: return h5type_make_vlen_utf8();
    default: return -1;
  }
}

/* On-disk types are little-endian standard types, as h5py writes on x86/ARM. */
hid_t h5type_file_for(DType dt) {
  switch (dt) {
    case DT_INT8: return H5Tcopy(H5T_STD_I8LE);
    case DT_INT16: return H5Tcopy(H5T_STD_I16LE);
    case DT_INT32: return H5Tcopy(H5T_STD_I32LE);
    case DT_INT64: return H5Tcopy(H5T_STD_I64LE);
    case DT_UINT8: return H5Tcopy(H5T_STD_U8LE);
    case DT_UINT16: return H5Tcopy(H5T_STD_U16LE);
    case DT_UINT32: return H5Tcopy(H5T_STD_U32LE);
    case DT_UINT64: return H5Tcopy(H5T_STD_U64LE);
    case DT_FLOAT32: return H5Tcopy(H5T_IEEE_F32LE);
    case DT_FLOAT64: return H5Tcopy(H5T_IEEE_F64LE);
    default: return h5type_mem_for(dt); /* bool enum, vlen string */
  }
}

napi_typedarray_type dtype_typedarray(DType dt) {
  switch (dt) {
    case DT_INT8: return napi_int8_array;
    case DT_INT16: return napi_int16_array;
    case DT_INT32: return napi_int32_array;
    case DT_INT64: return napi_bigint64_array;
    case DT_UINT16: return napi_uint16_array;
    case DT_UINT32: return napi_uint32_array;
    case DT_UINT64: return napi_biguint64_array;
    case DT_FLOAT32: return napi_float32_array;
    case DT_FLOAT64: return napi_float64_array;
    default: return napi_uint8_array; /* uint8 and bool (0/1) */
  }
}

hid_t h5type_mem_string_for(hid_t ftype) {
  htri_t is_vlen = H5Tis_variable_str(ftype);
  if (is_vlen < 0) return -1;
  if (!is_vlen) return H5Tcopy(ftype); /* fixed-length: read bytes verbatim */
  hid_t t = H5Tcopy(H5T_C_S1);
  if (t < 0) return -1;
  /* Keep the file's character set: HDF5 refuses ASCII<->UTF-8 conversion. */
  if (H5Tset_size(t, H5T_VARIABLE) < 0 ||
      H5Tset_cset(t, H5Tget_cset(ftype)) < 0) {
    H5Tclose(t);
    return -1;
  }
  return t;
}

/* String i of an H5Dread buffer: its bytes and length (vlen strings end at
 * their NUL, fixed ones at a NUL or their width, space padding removed). */
typedef struct { bool vlen; size_t fixed; bool spacepad; } StringLayout;

static StringLayout string_layout(hid_t ftype) {
  StringLayout l;
  l.vlen = H5Tis_variable_str(ftype) > 0;
  l.fixed = l.vlen ? 0 : H5Tget_size(ftype);
  l.spacepad = !l.vlen && H5Tget_strpad(ftype) == H5T_STR_SPACEPAD;
  return l;
}

static const char *string_at(const StringLayout *l, const void *buf, size_t i, size_t *len) {
  if (l->vlen) {
    const char *s = ((char *const *)buf)[i]; /* NULL for never-written elements */
    *len = s ? strlen(s) : 0;
    return s;
  }
  const char *s = (const char *)buf + i * l->fixed;
  const char *nul = memchr(s, '\0', l->fixed);
  size_t n = nul ? (size_t)(nul - s) : l->fixed;
  while (l->spacepad && n > 0 && s[n - 1] == ' ') n--;
  *len = n;
  return s;
}

napi_value h5_strings_to_js(napi_env env, hid_t ftype, const void *buf,
                            size_t n) {
  napi_value arr;
  NAPI_CHECK(env, napi_create_array_with_length(env, n, &arr));
  StringLayout layout = string_layout(ftype);
  for (size_t i = 0; i < n; i++) {
    /* A handle scope per element keeps memory flat for large columns. */
    napi_handle_scope scope;
    NAPI_CHECK(env, napi_open_handle_scope(env, &scope));
    size_t len;
    const char *s = string_at(&layout, buf, i, &len);
    napi_value str = napi_make_string(env, s, len);
    napi_status st = str ? napi_set_element(env, arr, (uint32_t)i, str)
                         : napi_generic_failure;
    napi_close_handle_scope(env, scope);
    if (st != napi_ok) {
      napi_throw_last_error(env);
      return NULL;
    }
  }
  return arr;
}

/* Above this many bytes the strings go one by one (a JS string has a length limit). */
#define MAX_JOINED_BYTES ((size_t)256 * 1024 * 1024)

napi_value h5_strings_joined_to_js(napi_env env, hid_t ftype, const void *buf,
                                   size_t n) {
  StringLayout layout = string_layout(ftype);
  /* Pass 1: lengths (HDF5 strings end at their first NUL, so NUL separates them). */
  size_t total = 0, len = 0;
  for (size_t i = 0; i < n && total <= MAX_JOINED_BYTES; i++) {
    string_at(&layout, buf, i, &len);
    total += len + 1;
  }
  if (total > MAX_JOINED_BYTES) return h5_strings_to_js(env, ftype, buf, n);
  char *joined = (char *)malloc(total ? total : 1);
  if (!joined) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  size_t at = 0;
  for (size_t i = 0; i < n; i++) {
    const char *s = string_at(&layout, buf, i, &len);
    if (len) memcpy(joined + at, s, len);
    at += len;
    joined[at++] = '\0';
  }
  /* Without the last separator: n strings, n - 1 separators (n == 0 gives ""). */
  napi_value out = napi_make_string(env, joined, at ? at - 1 : 0);
  free(joined);
  return out;
}

napi_value h5_strings_utf8_to_js(napi_env env, hid_t ftype, const void *buf,
                                 size_t n) {
  StringLayout layout = string_layout(ftype);
  napi_value ends_ab, bytes_ab, ends, bytes, out;
  void *ends_p = NULL, *bytes_p = NULL;
  NAPI_CHECK(env, napi_create_arraybuffer(env, n * sizeof(uint32_t), &ends_p, &ends_ab));
  uint32_t *end = (uint32_t *)ends_p;
  size_t total = 0, len = 0;
  for (size_t i = 0; i < n; i++) {
    string_at(&layout, buf, i, &len);
    total += len;
    if (total > UINT32_MAX) {
      napi_throw_range_error(env, NULL, "strings of more than 4 GiB cannot be read as one block");
      return NULL;
    }
    end[i] = (uint32_t)total;
  }
  NAPI_CHECK(env, napi_create_arraybuffer(env, total, &bytes_p, &bytes_ab));
  char *to = (char *)bytes_p;
  for (size_t i = 0, at = 0; i < n; i++) {
    const char *s = string_at(&layout, buf, i, &len);
    if (len) memcpy(to + at, s, len);
    at += len;
  }
  NAPI_CHECK(env, napi_create_typedarray(env, napi_uint8_array, total, bytes_ab, 0, &bytes));
  NAPI_CHECK(env, napi_create_typedarray(env, napi_uint32_array, n, ends_ab, 0, &ends));
  NAPI_CHECK(env, napi_create_array_with_length(env, 2, &out));
  NAPI_CHECK(env, napi_set_element(env, out, 0, bytes));
  NAPI_CHECK(env, napi_set_element(env, out, 1, ends));
  return out;
}

void free_cstrings(char **strs, uint32_t n) {
  if (!strs) return;
  for (uint32_t i = 0; i < n; i++) free(strs[i]);
  free(strs);
}

char **js_to_cstrings(napi_env env, napi_value arr, uint32_t *out_n) {
  bool is_array = false;
  *out_n = 0;
  if (napi_is_array(env, arr, &is_array) != napi_ok || !is_array) {
    napi_throw_type_error(env, NULL, "expected an array of strings");
    return NULL;
  }
  uint32_t n = 0;
  NAPI_CHECK(env, napi_get_array_length(env, arr, &n));
  /* calloc(0) may return NULL; always allocate at least one slot. */
  char **strs = (char **)calloc(n ? n : 1, sizeof(char *));
  if (!strs) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  for (uint32_t i = 0; i < n; i++) {
    napi_value el;
    if (napi_get_element(env, arr, i, &el) != napi_ok ||
        !(strs[i] = napi_dup_string(env, el, "array element"))) {
      napi_throw_last_error(env);
      free_cstrings(strs, i);
      return NULL;
    }
  }
  *out_n = n;
  return strs;
}
