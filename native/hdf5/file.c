/*
 * File lifecycle and structural operations (groups, links, existence).
 *
 * A NativeFile owns exactly one HDF5 file id. Every other HDF5 object is
 * opened and closed within a single method call, so closing the file never
 * has to chase open children; we still open with H5F_CLOSE_STRONG so that a
 * bug elsewhere cannot keep the file (and its lock) alive after close().
 */
#include "common.h"
#include "vfd.h"

#include <stdlib.h>
#include <string.h>

static void close_state(H5FileState *st) {
  if (st->fid >= 0) {
    H5Fclose(st->fid);
    st->fid = -1;
  }
}

/* GC finalizer: closing here is a safety net, not the primary API. A write
 * session closed this way is rolled back, never committed half-way. */
static void file_finalize(napi_env env, void *data, void *hint) {
  (void)env; (void)hint;
  H5FileState *st = (H5FileState *)data;
  if (st->session) st->session->aborted = true;
  close_state(st);
  H5Eclear2(H5E_DEFAULT);
  session_unref(st->session);
  free(st->filename);
  free(st);
}

static hid_t open_through_driver(Session *s, const char *filename, unsigned flags) {
  hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
  if (fapl < 0) return -1;
  hid_t fid = -1;
  if (H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG) >= 0 && vfd_set(fapl, s) == 0)
    fid = H5Fopen(filename, flags, fapl);
  /* Keep the failure's stack for h5err_throw: closing the plist clears it. */
  hid_t stack = fid < 0 ? H5Eget_current_stack() : -1;
  H5Pclose(fapl);
  if (stack >= 0) H5Eset_current_stack(stack);
  return fid;
}

/* Roll back an interrupted write, then open. A writer may crash between our
 * rollback and HDF5 taking the file lock, so once the lock is held we look
 * for a journal again and start over if one appeared. */
static hid_t open_recovering(napi_env env, Session *s, const char *filename, unsigned flags) {
  for (int attempt = 0; attempt < 3; attempt++) {
    Recovery r;
    IoError err = {0};
    if (txn_recover(filename, &r, &err) != 0) {
      h5err_throw_io(env, &err);
      return -1;
    }
    if (r.rolled_back) s->recovered = r;
    IoError stale;
    txn_take_last_error(&stale);
    hid_t fid = open_through_driver(s, filename, flags);
    if (!txn_foreign_journal(filename)) {
      if (fid < 0) h5err_throw(env, "open", filename);
      return fid;
    }
    if (fid >= 0) {
      s->aborted = true; /* whatever opening wrote must not be committed */
      H5Fclose(fid);
    }
    H5Eclear2(H5E_DEFAULT);
  }
  h5err_throw_msg(env, "open", filename, "its journal keeps reappearing (another process keeps crashing while writing it)");
  return -1;
}

napi_value file_ctor(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2], self;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, &self, NULL));
  char *filename = napi_dup_string(env, argv[0], "path");
  if (!filename) return NULL;
  char *mode = napi_dup_string(env, argv[1], "mode");
  if (!mode) { free(filename); return NULL; }

  unsigned flags;
  bool mode_ok = true;
  if (strcmp(mode, "r") == 0) flags = H5F_ACC_RDONLY;
  else if (strcmp(mode, "r+") == 0) flags = H5F_ACC_RDWR;
  else mode_ok = false;
  free(mode);
  if (!mode_ok) {
    h5err_throw_msg(env, "open", filename, "mode must be \"r\" or \"r+\"");
    free(filename);
    return NULL;
  }

  Session *session = session_new(filename, flags == H5F_ACC_RDWR);
  H5FileState *st = session ? (H5FileState *)malloc(sizeof *st) : NULL;
  if (!st) {
    session_unref(session);
    free(filename);
    napi_throw_error(env, NULL, "out of memory");
    return NULL;
  }
  hid_t fid = open_recovering(env, session, filename, flags);
  if (fid < 0) {
    session_unref(session);
    free(st);
    free(filename);
    return NULL;
  }
  st->fid = fid;
  st->filename = filename;
  st->session = session;
  if (napi_wrap(env, self, st, file_finalize, NULL, NULL) != napi_ok) {
    napi_throw_last_error(env);
    file_finalize(env, st, NULL);
    return NULL;
  }
  return self;
}

/* Closing commits the write session (or rolls it back after an I/O error)
 * and reports that error. Double close is a no-op by design. */
static napi_value close_with(napi_env env, napi_callback_info info, bool abort) {
  napi_value self, undef;
  size_t argc = 0;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  H5FileState *st = NULL;
  NAPI_CHECK(env, napi_unwrap(env, self, (void **)&st));
  if (st->fid >= 0) {
    IoError stale;
    txn_take_last_error(&stale); /* see napi_get_file */
    if (abort) st->session->aborted = true;
    herr_t rc = H5Fclose(st->fid);
    st->fid = -1;
    if (st->session->err.code) {
      h5err_throw_io(env, &st->session->err);
      return NULL;
    }
    if (rc < 0) {
      h5err_throw(env, "close", st->filename);
      return NULL;
    }
  }
  NAPI_CHECK(env, napi_get_undefined(env, &undef));
  return undef;
}

napi_value file_close(napi_env env, napi_callback_info info) { return close_with(env, info, false); }

/* Closes without committing: the file is left exactly as it was opened. */
napi_value file_abort(napi_env env, napi_callback_info info) { return close_with(env, info, true); }

/* The write session's first I/O error as {code, message}, or null. */
napi_value file_io_failure(napi_env env, napi_callback_info info) {
  napi_value self, out, v;
  size_t argc = 0;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  H5FileState *st = NULL;
  NAPI_CHECK(env, napi_unwrap(env, self, (void **)&st));
  const IoError *e = &st->session->err;
  if (!st->session->failed || !e->code) {
    NAPI_CHECK(env, napi_get_null(env, &out));
    return out;
  }
  NAPI_CHECK(env, napi_create_object(env, &out));
  NAPI_CHECK(env, napi_create_string_utf8(env, e->code, NAPI_AUTO_LENGTH, &v));
  NAPI_CHECK(env, napi_set_named_property(env, out, "code", v));
  NAPI_CHECK(env, napi_create_string_utf8(env, e->msg, NAPI_AUTO_LENGTH, &v));
  NAPI_CHECK(env, napi_set_named_property(env, out, "message", v));
  return out;
}

static napi_value recovery_to_js(napi_env env, const Recovery *r) {
  napi_value out, v;
  if (!r->rolled_back) {
    NAPI_CHECK(env, napi_get_null(env, &out));
    return out;
  }
  NAPI_CHECK(env, napi_create_object(env, &out));
  const struct { const char *name; uint64_t value; } fields[] = {
      {"restoredBytes", r->restored}, {"records", r->records},
      {"originalLength", r->original_len}, {"truncatedBytes", r->truncated}};
  for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
    if (!(v = napi_make_uint64(env, fields[i].value))) return NULL;
    NAPI_CHECK(env, napi_set_named_property(env, out, fields[i].name, v));
  }
  return out;
}

/* What opening rolled back, or null. */
napi_value file_recovered(napi_env env, napi_callback_info info) {
  napi_value self;
  size_t argc = 0;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  H5FileState *st = NULL;
  NAPI_CHECK(env, napi_unwrap(env, self, (void **)&st));
  return recovery_to_js(env, &st->session->recovered);
}

/* recover(path): roll back an interrupted write without opening the file. */
napi_value file_recover(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  Recovery r;
  IoError err = {0};
  int rc = txn_recover(path, &r, &err);
  free(path);
  if (rc != 0) {
    h5err_throw_io(env, &err);
    return NULL;
  }
  return recovery_to_js(env, &r);
}

napi_value file_is_open(napi_env env, napi_callback_info info) {
  napi_value self, out;
  size_t argc = 0;
  NAPI_CHECK(env, napi_get_cb_info(env, info, &argc, NULL, &self, NULL));
  H5FileState *st = NULL;
  NAPI_CHECK(env, napi_unwrap(env, self, (void **)&st));
  NAPI_CHECK(env, napi_get_boolean(env, st->fid >= 0, &out));
  return out;
}

bool h5_path_exists(hid_t fid, const char *path) {
  size_t n = strlen(path);
  if (n == 0) return false;
  char *buf = (char *)malloc(n + 1);
  if (!buf) return false;
  memcpy(buf, path, n + 1);
  bool ok = true;
  /* H5Lexists fails (rather than returning 0) when an intermediate component
   * is missing, so test each prefix "/a", "/a/b", ... in turn. */
  for (size_t i = 1; ok && i <= n; i++) {
    if (i == n || buf[i] == '/') {
      if (i > 0 && buf[i - 1] == '/') continue; /* "//" or leading "/" */
      char saved = buf[i];
      buf[i] = '\0';
      ok = H5Lexists(fid, buf, H5P_DEFAULT) > 0;
      buf[i] = saved;
    }
  }
  /* The final link may be dangling (soft/external): require a real object.
   * "/" has no link of its own but always exists. */
  if (ok) ok = H5Oexists_by_name(fid, buf, H5P_DEFAULT) > 0;
  free(buf);
  H5Eclear2(H5E_DEFAULT);
  return ok;
}

napi_value file_exists(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  H5FileState *st = napi_get_file(env, info, 1, argv, "exists");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  bool ok = h5_path_exists(st->fid, path);
  free(path);
  NAPI_CHECK(env, napi_get_boolean(env, ok, &out));
  return out;
}

napi_value file_kind(napi_env env, napi_callback_info info) {
  napi_value argv[1], out;
  H5FileState *st = napi_get_file(env, info, 1, argv, "kind");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  const char *kind = NULL;
  if (h5_path_exists(st->fid, path)) {
    hid_t obj = H5Oopen(st->fid, path, H5P_DEFAULT);
    if (obj >= 0) {
      H5I_type_t t = H5Iget_type(obj);
      if (t == H5I_GROUP) kind = "group";
      else if (t == H5I_DATASET) kind = "dataset";
      H5Oclose(obj);
    }
    H5Eclear2(H5E_DEFAULT);
  }
  free(path);
  if (kind) NAPI_CHECK(env, napi_create_string_utf8(env, kind, NAPI_AUTO_LENGTH, &out));
  else NAPI_CHECK(env, napi_get_null(env, &out));
  return out;
}

typedef struct {
  char **names;
  size_t n, cap;
  bool oom;
} NameList;

static herr_t list_cb(hid_t g, const char *name, const H5L_info_t *li, void *d) {
  (void)g; (void)li;
  NameList *l = (NameList *)d;
  if (l->n == l->cap) {
    size_t cap = l->cap ? l->cap * 2 : 16;
    char **p = (char **)realloc(l->names, cap * sizeof(char *));
    if (!p) { l->oom = true; return -1; }
    l->names = p;
    l->cap = cap;
  }
  l->names[l->n] = strdup(name);
  if (!l->names[l->n]) { l->oom = true; return -1; }
  l->n++;
  return 0;
}

napi_value file_list(napi_env env, napi_callback_info info) {
  napi_value argv[1], out = NULL;
  H5FileState *st = napi_get_file(env, info, 1, argv, "list");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  NameList l = {NULL, 0, 0, false};
  hid_t gid = H5Gopen2(st->fid, path, H5P_DEFAULT);
  if (gid < 0) { h5err_throw(env, "list", path); goto cleanup; }

  /* Follow creation order when the group indexes it (h5py track_order=True),
   * otherwise name order, exactly what h5py's iteration yields. */
  H5_index_t idx = H5_INDEX_NAME;
  hid_t gcpl = H5Gget_create_plist(gid);
  unsigned crt = 0;
  if (gcpl >= 0) {
    if (H5Pget_link_creation_order(gcpl, &crt) >= 0 && (crt & H5P_CRT_ORDER_INDEXED))
      idx = H5_INDEX_CRT_ORDER;
    H5Pclose(gcpl);
  }
  hsize_t pos = 0;
  if (H5Literate(gid, idx, H5_ITER_INC, &pos, list_cb, &l) < 0) {
    if (l.oom) h5err_throw_msg(env, "list", path, "out of memory");
    else h5err_throw(env, "list", path);
    goto cleanup;
  }
  NAPI_CHECK_GOTO(env, napi_create_array_with_length(env, l.n, &out), cleanup);
  for (size_t i = 0; i < l.n; i++) {
    napi_value s = napi_make_string(env, l.names[i], strlen(l.names[i]));
    if (!s) { out = NULL; goto cleanup; }
    NAPI_CHECK_GOTO(env, napi_set_element(env, out, (uint32_t)i, s), cleanup);
  }

cleanup:
  if (gid >= 0) H5Gclose(gid);
  for (size_t i = 0; i < l.n; i++) free(l.names[i]);
  free(l.names);
  free(path);
  return out;
}

/* Link-creation plist that creates missing parents, like h5py's
 * require_group/create_dataset("a/b/c"). */
static hid_t make_lcpl(void) {
  hid_t lcpl = H5Pcreate(H5P_LINK_CREATE);
  if (lcpl < 0) return -1;
  H5Pset_create_intermediate_group(lcpl, 1);
  H5Pset_char_encoding(lcpl, H5T_CSET_UTF8); /* link names as h5py: UTF-8 */
  return lcpl;
}

napi_value file_create_group(napi_env env, napi_callback_info info) {
  napi_value argv[1], out = NULL;
  H5FileState *st = napi_get_file(env, info, 1, argv, "createGroup");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  hid_t lcpl = make_lcpl();
  hid_t gid = H5Gcreate2(st->fid, path, lcpl >= 0 ? lcpl : H5P_DEFAULT,
                         H5P_DEFAULT, H5P_DEFAULT);
  if (gid < 0) h5err_throw(env, "createGroup", path); /* before H5Pclose */
  if (lcpl >= 0) H5Pclose(lcpl);
  if (gid >= 0) {
    H5Gclose(gid);
    if (napi_get_undefined(env, &out) != napi_ok) napi_throw_last_error(env);
  }
  free(path);
  return out;
}

napi_value file_delete_link(napi_env env, napi_callback_info info) {
  napi_value argv[1], out = NULL;
  H5FileState *st = napi_get_file(env, info, 1, argv, "deleteLink");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  /* Note: HDF5 does not reclaim the space of unlinked objects; files that are
   * rewritten often may need h5repack to shrink, exactly as with h5py. */
  if (H5Ldelete(st->fid, path, H5P_DEFAULT) < 0) h5err_throw(env, "deleteLink", path);
  else if (napi_get_undefined(env, &out) != napi_ok) napi_throw_last_error(env);
  free(path);
  return out;
}

/* moveLink(src, dst): rename within the file. New columns are written under a
 * temporary name and moved into place, so a failed write never leaves a
 * half-written column under its real name. */
napi_value file_move_link(napi_env env, napi_callback_info info) {
  napi_value argv[2], out = NULL;
  H5FileState *st = napi_get_file(env, info, 2, argv, "moveLink");
  if (!st) return NULL;
  char *src = napi_dup_string(env, argv[0], "src");
  char *dst = src ? napi_dup_string(env, argv[1], "dst") : NULL;
  if (src && dst) {
    hid_t lcpl = make_lcpl();
    if (lcpl < 0 || H5Lmove(st->fid, src, st->fid, dst, lcpl, H5P_DEFAULT) < 0) h5err_throw(env, "moveLink", src);
    else if (napi_get_undefined(env, &out) != napi_ok) napi_throw_last_error(env);
    if (lcpl >= 0) H5Pclose(lcpl);
  }
  free(src);
  free(dst);
  return out;
}

hid_t h5_make_lcpl(void) { return make_lcpl(); }
