/*
 * Attribute reading and writing.
 *
 * AnnData stores its schema in attributes (encoding-type, encoding-version,
 * column-order, _index, ordered), written by h5py as:
 *   - str          -> scalar variable-length UTF-8 string
 *   - list[str]    -> 1-D variable-length UTF-8 strings
 *   - bool         -> scalar h5py enum {FALSE, TRUE} over int8
 *   - []           -> 1-D float64 of length 0 (numpy's default empty dtype)
 * Readers must also accept fixed-length strings written by other tools.
 * Values come back as JS strings / numbers (BigInt only beyond 2^53) /
 * booleans, or arrays of those for non-scalar dataspaces (flattened).
 * Attributes whose type we do not model (compound, reference, ...) and
 * null-dataspace attributes (h5py.Empty) read as null.
 */
#include "common.h"

#include <stdlib.h>
#include <string.h>

typedef struct { char **names; size_t n, cap; } AttrNames;

static herr_t attr_name_cb(hid_t loc, const char *name, const H5A_info_t *ai,
                           void *d) {
  (void)loc; (void)ai;
  AttrNames *l = (AttrNames *)d;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 8;
    char **p = (char **)realloc(l->names, cap * sizeof(char *));
    if (!p) return -1;
    l->names = p;
    l->cap = cap;
  }
  if (!(l->names[l->n] = strdup(name))) return -1;
  l->n++;
  return 0;
}

/* Build a JS value from `n` elements produced by `make(i)`. */
#define BUILD_VALUE(env, scalar, n, out, make_expr)                        \
  do {                                                                     \
    if (scalar) {                                                          \
      size_t i = 0;                                                        \
      out = (make_expr);                                                   \
    } else {                                                               \
      NAPI_CHECK_GOTO(env, napi_create_array_with_length(env, n, &out), cleanup); \
      for (size_t i = 0; i < (n); i++) {                                   \
        napi_value el_ = (make_expr);                                      \
        if (!el_) { out = NULL; goto cleanup; }                            \
        NAPI_CHECK_GOTO(env, napi_set_element(env, out, (uint32_t)i, el_), cleanup); \
      }                                                                    \
    }                                                                      \
  } while (0)

static napi_value make_bool(napi_env env, bool b) {
  napi_value v;
  return napi_get_boolean(env, b, &v) == napi_ok ? v : NULL;
}

static napi_value make_double(napi_env env, double d) {
  napi_value v;
  return napi_create_double(env, d, &v) == napi_ok ? v : NULL;
}

/* Read one open attribute into a JS value; NULL with exception on error. */
static napi_value read_attr_value(napi_env env, hid_t aid, const char *path,
                                  const char *name) {
  napi_value out = NULL;
  hid_t ftype = H5Aget_type(aid), space = H5Aget_space(aid), mtype = -1;
  void *buf = NULL;
  bool vlen_strings = false;
  if (ftype < 0 || space < 0) { h5err_throw(env, "readAttrs", path); goto cleanup; }

  H5S_class_t sclass = H5Sget_simple_extent_type(space);
  if (sclass == H5S_NULL) { NAPI_CHECK_GOTO(env, napi_get_null(env, &out), cleanup); goto cleanup; }
  bool scalar = sclass == H5S_SCALAR;
  hssize_t np = H5Sget_simple_extent_npoints(space);
  size_t n = np > 0 ? (size_t)np : 0;

  H5T_class_t tclass = H5Tget_class(ftype);
  bool is_bool = tclass == H5T_ENUM && h5type_is_h5py_bool(ftype);
  if (tclass == H5T_STRING) {
    mtype = h5type_mem_string_for(ftype);
    vlen_strings = H5Tis_variable_str(ftype) > 0;
  } else if (is_bool) {
    mtype = h5type_make_bool();
  } else if (tclass == H5T_INTEGER) {
    mtype = H5Tcopy(H5Tget_sign(ftype) == H5T_SGN_NONE ? H5T_NATIVE_UINT64 : H5T_NATIVE_INT64);
  } else if (tclass == H5T_FLOAT) {
    mtype = H5Tcopy(H5T_NATIVE_DOUBLE);
  } else {
    NAPI_CHECK_GOTO(env, napi_get_null(env, &out), cleanup); /* unsupported */
    goto cleanup;
  }
  if (mtype < 0) { h5err_throw(env, "readAttrs", path); goto cleanup; }

  size_t esize = H5Tget_size(mtype);
  buf = calloc(n ? n : 1, esize ? esize : 1);
  if (!buf) { h5err_throw_msg(env, "readAttrs", path, "out of memory"); goto cleanup; }
  if (n > 0 && H5Aread(aid, mtype, buf) < 0) {
    char what[512];
    snprintf(what, sizeof what, "%s@%s", path, name);
    h5err_throw(env, "readAttr", what);
    goto cleanup;
  }

  if (tclass == H5T_STRING) {
    napi_value arr = h5_strings_to_js(env, ftype, buf, n);
    if (!arr) goto cleanup;
    if (scalar) NAPI_CHECK_GOTO(env, napi_get_element(env, arr, 0, &out), cleanup);
    else out = arr;
  } else if (is_bool) {
    const int8_t *b = (const int8_t *)buf;
    BUILD_VALUE(env, scalar, n, out, make_bool(env, b[i] != 0));
  } else if (tclass == H5T_INTEGER && H5Tget_sign(ftype) == H5T_SGN_NONE) {
    const uint64_t *u = (const uint64_t *)buf;
    BUILD_VALUE(env, scalar, n, out, napi_make_uint64(env, u[i]));
  } else if (tclass == H5T_INTEGER) {
    const int64_t *s = (const int64_t *)buf;
    BUILD_VALUE(env, scalar, n, out, napi_make_int64(env, s[i]));
  } else {
    const double *d = (const double *)buf;
    BUILD_VALUE(env, scalar, n, out, make_double(env, d[i]));
  }

cleanup:
  /* Variable-length strings are allocated by HDF5 and must be freed by it. */
  if (buf && vlen_strings && n > 0) H5Dvlen_reclaim(mtype, space, H5P_DEFAULT, buf);
  free(buf);
  if (mtype >= 0) H5Tclose(mtype);
  if (ftype >= 0) H5Tclose(ftype);
  if (space >= 0) H5Sclose(space);
  if (!out) napi_throw_last_error(env); /* no-op if already thrown */
  return out;
}

napi_value attrs_read(napi_env env, napi_callback_info info) {
  napi_value argv[1], out = NULL, result;
  H5FileState *st = napi_get_file(env, info, 1, argv, "readAttrs");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  AttrNames l = {NULL, 0, 0};
  hid_t obj = H5Oopen(st->fid, path, H5P_DEFAULT);
  if (obj < 0) { h5err_throw(env, "readAttrs", path); goto cleanup; }
  hsize_t pos = 0;
  if (H5Aiterate2(obj, H5_INDEX_NAME, H5_ITER_INC, &pos, attr_name_cb, &l) < 0) {
    h5err_throw(env, "readAttrs", path);
    goto cleanup;
  }
  NAPI_CHECK_GOTO(env, napi_create_object(env, &result), cleanup);
  for (size_t i = 0; i < l.n; i++) {
    hid_t aid = H5Aopen(obj, l.names[i], H5P_DEFAULT);
    if (aid < 0) { h5err_throw(env, "readAttrs", path); goto cleanup; }
    napi_value v = read_attr_value(env, aid, path, l.names[i]);
    H5Aclose(aid);
    if (!v) goto cleanup;
    /* define (not set) so a name like "__proto__" stays a plain key. */
    napi_value key = napi_make_string(env, l.names[i], strlen(l.names[i]));
    if (!key) goto cleanup;
    napi_property_descriptor d = {NULL, key, NULL, NULL, NULL, v,
                                  napi_default_jsproperty, NULL};
    NAPI_CHECK_GOTO(env, napi_define_properties(env, result, 1, &d), cleanup);
  }
  out = result;

cleanup:
  if (obj >= 0) H5Oclose(obj);
  for (size_t i = 0; i < l.n; i++) free(l.names[i]);
  free(l.names);
  free(path);
  return out;
}

/* Creates attribute `name` on the open object `obj` from `data`: string[] for
 * DT_STRING, else the TypedArray matching `dt` (Uint8Array of 0/1 for bool,
 * BigInt64Array for int64). `scalar` writes a scalar dataspace from data[0].
 * An attribute of the same name is replaced (HDF5 cannot change an
 * attribute's type or shape in place) unless `fresh`: a just-created object
 * has none, and asking costs a lookup per attribute. */
bool h5_write_attr(napi_env env, hid_t obj, const char *path, const char *name,
                   DType dt, napi_value data_arg, bool scalar, bool fresh) {
  bool ok = false;
  char **strs = NULL;
  uint32_t nstr = 0;
  hid_t space = -1, ftype = -1, mtype = -1, aid = -1, acpl = -1;
  const void *data = NULL;
  size_t n = 0;
  if (dt == DT_INVALID) { h5err_throw_msg(env, "writeAttr", path, "unknown dtype"); return false; }
  if (dt == DT_STRING) {
    if (!(strs = js_to_cstrings(env, data_arg, &nstr))) goto cleanup;
    data = strs;
    n = nstr;
  } else {
    void *p = NULL;
    if (!napi_get_typed(env, data_arg, dtype_typedarray(dt), &p, &n, "attribute data"))
      goto cleanup;
    data = p;
  }
  if (scalar && n != 1) {
    h5err_throw_msg(env, "writeAttr", path, "a scalar attribute needs exactly one value");
    goto cleanup;
  }
  hsize_t dims[1] = {(hsize_t)n};
  space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
  ftype = h5type_file_for(dt);
  mtype = h5type_mem_for(dt);
  acpl = H5Pcreate(H5P_ATTRIBUTE_CREATE);
  if (space < 0 || ftype < 0 || mtype < 0 || acpl < 0 ||
      H5Pset_char_encoding(acpl, H5T_CSET_UTF8) < 0) {
    h5err_throw(env, "writeAttr", path);
    goto cleanup;
  }
  if (!fresh) {
    htri_t exists = H5Aexists(obj, name);
    if (exists < 0 || (exists > 0 && H5Adelete(obj, name) < 0)) {
      h5err_throw(env, "writeAttr", path);
      goto cleanup;
    }
  }
  aid = H5Acreate2(obj, name, ftype, space, acpl, H5P_DEFAULT);
  if (aid < 0 || (n > 0 && H5Awrite(aid, mtype, data) < 0)) {
    h5err_throw(env, "writeAttr", path);
    goto cleanup;
  }
  ok = true;

cleanup:
  if (aid >= 0) H5Aclose(aid);
  if (acpl >= 0) H5Pclose(acpl);
  if (mtype >= 0) H5Tclose(mtype);
  if (ftype >= 0) H5Tclose(ftype);
  if (space >= 0) H5Sclose(space);
  free_cstrings(strs, nstr);
  return ok;
}

/* writeAttr(path, name, dtype, data, scalar): h5_write_attr on the object at `path`. */
napi_value attrs_write(napi_env env, napi_callback_info info) {
  napi_value argv[5], out = NULL;
  H5FileState *st = napi_get_file(env, info, 5, argv, "writeAttr");
  if (!st) return NULL;
  char *path = NULL, *name = NULL, *dtname = NULL;
  hid_t obj = -1;
  if (!(path = napi_dup_string(env, argv[0], "path")) ||
      !(name = napi_dup_string(env, argv[1], "name")) ||
      !(dtname = napi_dup_string(env, argv[2], "dtype")))
    goto cleanup;
  bool scalar = false;
  NAPI_CHECK_GOTO(env, napi_get_value_bool(env, argv[4], &scalar), cleanup);
  DType dt = dtype_from_name(dtname);
  if (dt == DT_INVALID) { h5err_throw_msg(env, "writeAttr", path, "unknown dtype"); goto cleanup; }
  obj = H5Oopen(st->fid, path, H5P_DEFAULT);
  if (obj < 0) { h5err_throw(env, "writeAttr", path); goto cleanup; }
  if (!h5_write_attr(env, obj, path, name, dt, argv[3], scalar, false)) goto cleanup;
  NAPI_CHECK_GOTO(env, napi_get_undefined(env, &out), cleanup);

cleanup:
  if (obj >= 0) H5Oclose(obj);
  free(path); free(name); free(dtname);
  return out;
}

/* The attributes given to createDataset: an array of [name, dtype, data,
 * scalar] entries, each written by h5_write_attr on the new object. */
bool h5_write_attr_list(napi_env env, hid_t obj, const char *path, napi_value list) {
  uint32_t count = 0;
  if (napi_get_array_length(env, list, &count) != napi_ok) {
    napi_throw_type_error(env, NULL, "attributes must be an array of [name, dtype, data, scalar]");
    return false;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value entry, name_v, dtype_v, data_v, scalar_v;
    bool scalar = false;
    if (napi_get_element(env, list, i, &entry) != napi_ok ||
        napi_get_element(env, entry, 0, &name_v) != napi_ok ||
        napi_get_element(env, entry, 1, &dtype_v) != napi_ok ||
        napi_get_element(env, entry, 2, &data_v) != napi_ok ||
        napi_get_element(env, entry, 3, &scalar_v) != napi_ok ||
        napi_get_value_bool(env, scalar_v, &scalar) != napi_ok) {
      napi_throw_type_error(env, NULL, "attributes must be an array of [name, dtype, data, scalar]");
      return false;
    }
    char *name = napi_dup_string(env, name_v, "attribute name");
    char *dtname = name ? napi_dup_string(env, dtype_v, "attribute dtype") : NULL;
    bool ok = name && dtname && h5_write_attr(env, obj, path, name, dtype_from_name(dtname), data_v, scalar, true);
    free(name);
    free(dtname);
    if (!ok) return false;
  }
  return true;
}

napi_value attrs_delete(napi_env env, napi_callback_info info) {
  napi_value argv[2], out = NULL;
  H5FileState *st = napi_get_file(env, info, 2, argv, "deleteAttr");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  char *name = path ? napi_dup_string(env, argv[1], "name") : NULL;
  if (path && name) {
    if (H5Adelete_by_name(st->fid, path, name, H5P_DEFAULT) < 0)
      h5err_throw(env, "deleteAttr", path);
    else if (napi_get_undefined(env, &out) != napi_ok)
      napi_throw_last_error(env);
  }
  free(path); free(name);
  return out;
}
