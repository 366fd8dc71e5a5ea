/*
 * Small Node-API helpers shared by all method implementations.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_SAFE_INTEGER 9007199254740991LL

H5FileState *napi_get_file(napi_env env, napi_callback_info info,
                           size_t want, napi_value *argv, const char *op) {
  size_t argc = want;
  napi_value self;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  /* Missing arguments arrive as `undefined` when argc < want; the callers
   * validate types themselves, so nothing else to do here. */
  H5FileState *st = NULL;
  if (napi_unwrap(env, self, (void **)&st) != napi_ok || st == NULL) {
    napi_throw_type_error(env, NULL, "receiver is not a NativeFile");
    return NULL;
  }
  /* A driver error left by an earlier call (reported already, or on another
   * file) must not be mistaken for the cause of this call's failure. */
  IoError stale;
  txn_take_last_error(&stale);
  if (st->fid < 0) {
    /* Operating on a closed file must be a catchable error, not a crash. */
    h5err_throw_msg(env, op, st->filename, "file is closed");
    return NULL;
  }
  return st;
}

char *napi_dup_string(napi_env env, napi_value value, const char *what) {
  napi_valuetype t;
  if (napi_typeof(env, value, &t) != napi_ok || t != napi_string) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s must be a string", what);
    napi_throw_type_error(env, NULL, msg);
    return NULL;
  }
  size_t len = 0;
  if (napi_get_value_string_utf8(env, value, NULL, 0, &len) != napi_ok) {
    napi_throw_last_error(env);
    return NULL;
  }
  char *buf = (char *)malloc(len + 1);
  if (!buf) {
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  if (napi_get_value_string_utf8(env, value, buf, len + 1, &len) != napi_ok) {
    free(buf);
    napi_throw_last_error(env);
    return NULL;
  }
  return buf;
}

napi_value napi_make_string(napi_env env, const char *s, size_t len) {
  napi_value v;
  /* napi_create_string_utf8 replaces invalid UTF-8 with U+FFFD, so broken
   * input degrades gracefully instead of failing the whole read. */
  NAPI_CHECK(env, napi_create_string_utf8(env, s ? s : "", s ? len : 0, &v));
  return v;
}

napi_value napi_make_int64(napi_env env, int64_t v) {
  napi_value out;
  if (v >= -MAX_SAFE_INTEGER && v <= MAX_SAFE_INTEGER)
    NAPI_CHECK(env, napi_create_int64(env, v, &out));
  else
    NAPI_CHECK(env, napi_create_bigint_int64(env, v, &out));
  return out;
}

napi_value napi_make_uint64(napi_env env, uint64_t v) {
  napi_value out;
  if (v <= (uint64_t)MAX_SAFE_INTEGER)
    NAPI_CHECK(env, napi_create_int64(env, (int64_t)v, &out));
  else
    NAPI_CHECK(env, napi_create_bigint_uint64(env, v, &out));
  return out;
}

bool napi_get_typed(napi_env env, napi_value v, napi_typedarray_type want,
                    void **data, size_t *length, const char *what) {
  bool is_typed = false;
  napi_typedarray_type type;
  napi_value ab;
  size_t offset;
  if (napi_is_typedarray(env, v, &is_typed) != napi_ok || !is_typed ||
      napi_get_typedarray_info(env, v, &type, length, data, &ab, &offset) != napi_ok ||
      type != want) {
    char msg[160];
    snprintf(msg, sizeof msg, "%s has the wrong TypedArray type for its dtype", what);
    napi_throw_type_error(env, NULL, msg);
    return false;
  }
  return true;
}
