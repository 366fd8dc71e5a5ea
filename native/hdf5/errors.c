/*
 * Error handling: HDF5 keeps a per-thread error stack and, by default, prints
 * it to stderr whenever an API call fails. A library embedded in Node must
 * not write to stderr behind the caller's back, and a failed call must become
 * a JS exception rather than a crash, so we:
 *   1. disable automatic printing once at module load (h5err_init);
 *   2. after any failing HDF5 call, summarise the stack into the message of a
 *      thrown JS Error that also names the operation and the object path.
 */
#include "common.h"

#include <stdio.h>
#include <string.h>

void h5err_init(void) {
  /* NULL func => no automatic stack printing for the default stack. */
  H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

/* Re-throw the last napi failure as a JS error unless one is already pending
 * (napi calls such as napi_get_value_string_utf8 fail without throwing). */
void napi_throw_last_error(napi_env env) {
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return;
  const napi_extended_error_info *info = NULL;
  napi_get_last_error_info(env, &info);
  const char *msg = (info && info->error_message) ? info->error_message
                                                   : "unknown Node-API error";
  napi_throw_error(env, NULL, msg);
}

typedef struct {
  char outer[256]; /* description at the API boundary (first seen, downward) */
  char inner[256]; /* description where the failure originated (last seen)  */
  int count;
} StackSummary;

static herr_t walk_cb(unsigned n, const H5E_error2_t *err, void *data) {
  (void)n;
  StackSummary *s = (StackSummary *)data;
  const char *desc = (err->desc && err->desc[0]) ? err->desc : NULL;
  char minor[128] = "";
  if (!desc) {
    /* Fall back to the minor message ("object not found", ...). */
    H5Eget_msg(err->min_num, NULL, minor, sizeof minor);
    desc = minor;
  }
  if (s->count == 0) snprintf(s->outer, sizeof s->outer, "%s", desc);
  snprintf(s->inner, sizeof s->inner, "%s", desc);
  s->count++;
  return 0;
}

static void throw_with(napi_env env, const char *op, const char *path,
                       const char *detail) {
  char msg[1024];
  if (path && path[0])
    snprintf(msg, sizeof msg, "HDF5 %s '%s' failed: %s", op, path, detail);
  else
    snprintf(msg, sizeof msg, "HDF5 %s failed: %s", op, detail);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, NULL, msg);
}

void h5err_throw_io(napi_env env, const IoError *e) {
  H5Eclear2(H5E_DEFAULT);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (!pending) napi_throw_error(env, e->code, e->msg);
}

void h5err_throw(napi_env env, const char *op, const char *path) {
  /* A failure of the file driver (a lock held elsewhere, a full disk, a
   * permission) explains the HDF5 stack better than the stack does. */
  IoError io;
  if (txn_take_last_error(&io)) {
    h5err_throw_io(env, &io);
    return;
  }
  StackSummary s;
  memset(&s, 0, sizeof s);
  /* Walk from the API call down to the origin, like h5py's messages. */
  H5Ewalk2(H5E_DEFAULT, H5E_WALK_DOWNWARD, walk_cb, &s);
  H5Eclear2(H5E_DEFAULT);

  char detail[600];
  if (s.count == 0)
    snprintf(detail, sizeof detail, "unknown HDF5 error");
  else if (s.count == 1 || strcmp(s.outer, s.inner) == 0)
    snprintf(detail, sizeof detail, "%s", s.outer);
  else
    snprintf(detail, sizeof detail, "%s (%s)", s.outer, s.inner);
  throw_with(env, op, path, detail);
}

void h5err_throw_msg(napi_env env, const char *op, const char *path,
                     const char *detail) {
  H5Eclear2(H5E_DEFAULT);
  throw_with(env, op, path, detail);
}
