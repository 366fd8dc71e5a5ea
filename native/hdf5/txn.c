/*
 * In-place writes to an .h5ad are a transaction (all or nothing, even after
 * kill -9 or power loss), kept by a rollback journal beside the file,
 * FILE-cellucid-journal, in the manner of SQLite's rollback journal.
 *
 * Design, and why:
 *  - Appending columns writes almost only beyond the file's original end
 *    (new datasets); below it HDF5 rewrites a few KiB of metadata (the
 *    superblock, object headers, B-tree and heap nodes). Bytes beyond the
 *    original end need no pre-image: rolling back truncates them away. So
 *    appends go straight to the file, while writes below the original end
 *    are held in memory (an overlay that reads consult) until commit. The
 *    cost is a constant number of fsyncs whatever the size of X or the number
 *    of columns, instead of one journal sync per overwrite.
 *  - Before the first byte of the file changes, the journal's header (the
 *    original length, a random salt, a checksum) is written and fsync'd with
 *    its directory: from then on a crash is rolled back by truncation.
 *  - Commit: append the pre-image of every overlay range to the journal,
 *    each record checksummed with the salt; fsync the journal; write the
 *    overlay into the file; fsync the file (this also makes the appends
 *    durable); unlink the journal; fsync the directory. The unlink is the
 *    commit point.
 *  - Rollback (on every open that finds a journal, or when a session fails
 *    or is aborted): write the valid pre-images back, stopping at the first
 *    record whose checksum fails (a torn tail: the journal was not yet
 *    fsync'd, so none of those overwrites happened), truncate to the
 *    original length, fsync, unlink the journal, fsync the directory.
 *    Rolling back twice is harmless, so a crash during recovery is too.
 *  - After an I/O error the session is doomed: further writes go to the
 *    overlay only and succeed, so HDF5's own state stays consistent and its
 *    close cannot fail half-way (a failed H5Fclose leaves ids that
 *    H5_term_library used to crash on); the driver rolls back at close and
 *    the binding reports the first error.
 *
 * Every write, truncation and journal unlink of a write session passes
 * through mut_* (txn_io.c), which also implement the test hooks
 * CELLUCID_TEST_CRASH_AT_WRITE, CELLUCID_TEST_FAIL_AT_WRITE and
 * CELLUCID_TEST_COUNT_WRITES.
 */
#include "txn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

void session_fail(Session *s, const char *code, int errnum, const char *fmt, ...) {
  s->failed = true;
  if (s->err.code) return;
  va_list ap;
  va_start(ap, fmt);
  io_verror(&s->err, code, errnum, fmt, ap);
  va_end(ap);
  txn_set_last_error(&s->err);
}

/* A failed step of a write session. A full disk says where and how much. */
static void fail_step(Session *s, int e, const char *step, uint64_t needed, int fd) {
  if (e == ENOSPC || e == EDQUOT)
    session_fail(s, NULL, e, "%s: no space left on the device holding %s while %s: %llu more bytes needed, %llu bytes free",
                 s->path, s->dir_path, step, (unsigned long long)needed, io_free_bytes(fd));
  else
    session_fail(s, NULL, e, "%s: %s failed: %s", s->path, step, strerror(e));
}

/* ---- sessions ------------------------------------------------------------- */

static Session *g_live; /* sessions whose journal exists */

static void registry_remove(Session *s) {
  for (Session **p = &g_live; *p; p = &(*p)->next) {
    if (*p == s) {
      *p = s->next;
      s->next = NULL;
      return;
    }
  }
}

Session *session_new(const char *path, bool writable) {
  Session *s = (Session *)calloc(1, sizeof *s);
  if (!s) return NULL;
  s->refs = 1;
  s->writable = writable;
  s->fd = -1;
  s->jfd = -1;
  s->path = strdup(path);
  if (!s->path || journal_paths(path, &s->journal_path, &s->dir_path) != 0) {
    session_unref(s);
    return NULL;
  }
  return s;
}

void session_unref(Session *s) {
  if (!s || --s->refs > 0) return;
  registry_remove(s);
  if (s->jfd >= 0) close(s->jfd);
  overlay_free(&s->overlay);
  free(s->path);
  free(s->journal_path);
  free(s->dir_path);
  free(s);
}

int session_begin(Session *s, int fd) {
  struct stat st;
  if (fstat(fd, &st) != 0) return errno;
  if (S_ISDIR(st.st_mode)) return EISDIR;
  overlay_free(&s->overlay);
  s->open = true;
  s->fd = fd;
  s->dev = st.st_dev;
  s->ino = st.st_ino;
  s->orig_len = s->eof = (uint64_t)st.st_size;
  s->jpos = 0;
  s->failed = s->aborted = false;
  memset(&s->err, 0, sizeof s->err);
  return 0;
}

/* The journal header, durable before the file's first change. */
static int ensure_journal(Session *s) {
  if (s->jfd >= 0) return 0;
  int jfd = open(s->journal_path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (jfd < 0) {
    fail_step(s, errno, "creating the journal", HEADER_SIZE, s->fd);
    return -1;
  }
  s->salt = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s;
  int rnd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
  if (rnd >= 0) {
    size_t got = 0;
    uint64_t r = 0;
    if (io_read_all(rnd, &r, sizeof r, 0, &got) == 0 && got == sizeof r) s->salt = r;
    close(rnd);
  }
  unsigned char h[HEADER_SIZE];
  journal_header(h, s->orig_len, s->salt);
  int e = mut_pwrite(true, jfd, h, HEADER_SIZE, 0);
  if (!e) e = io_fsync(jfd);
  if (!e) e = io_fsync_dir(s->dir_path);
  if (e) {
    /* No byte of the data file has changed yet: the journal is just removed. */
    close(jfd);
    unlink(s->journal_path);
    fail_step(s, e, "writing the journal", HEADER_SIZE, s->fd);
    return -1;
  }
  s->jfd = jfd;
  s->jpos = HEADER_SIZE;
  s->next = g_live;
  g_live = s;
  return 0;
}

int session_read(Session *s, uint64_t off, size_t len, void *buf) {
  size_t got = 0;
  int e = io_read_all(s->fd, buf, len, off, &got);
  if (e) {
    IoError err;
    io_error(&err, NULL, e, "%s: cannot read %zu bytes at offset %llu: %s", s->path, len, (unsigned long long)off, strerror(e));
    txn_set_last_error(&err);
    return -1;
  }
  memset((char *)buf + got, 0, len - got); /* past the end reads as zeros, as in sec2 */
  overlay_patch(&s->overlay, off, len, (unsigned char *)buf);
  return 0;
}

static bool keep_in_memory(Session *s, uint64_t off, size_t len, const void *buf) {
  if (overlay_put(&s->overlay, off, len, buf)) return true;
  session_fail(s, "IO", ENOMEM, "%s: out of memory holding %zu bytes of metadata", s->path, len);
  return false;
}

void session_write(Session *s, uint64_t off, size_t len, const void *buf, bool *ok) {
  *ok = true;
  uint64_t end = off + len;
  if (end > s->eof) s->eof = end;
  if (s->failed || s->aborted) { /* doomed: stay consistent for HDF5, touch nothing */
    *ok = keep_in_memory(s, off, len, buf);
    return;
  }
  size_t below = off >= s->orig_len ? 0 : (size_t)((end < s->orig_len ? end : s->orig_len) - off);
  if (below && !keep_in_memory(s, off, below, buf)) { *ok = false; return; }
  if (below == len) return;
  const unsigned char *rest = (const unsigned char *)buf + below;
  uint64_t at = off + below;
  size_t n = len - below;
  if (ensure_journal(s) != 0) {
    *ok = keep_in_memory(s, at, n, rest);
    return;
  }
  int e = mut_pwrite(true, s->fd, rest, n, at);
  if (e) {
    fail_step(s, e, "appending to the file", n, s->fd);
    *ok = keep_in_memory(s, at, n, rest);
  }
}

void session_truncate(Session *s, uint64_t len) {
  if (!s->writable) return;
  if (s->failed || s->aborted) {
    s->eof = len;
    return;
  }
  /* Never below the original length: those bytes would need a pre-image,
   * and HDF5 never reads past its end of allocation anyway. */
  uint64_t target = len > s->orig_len ? len : s->orig_len;
  struct stat st;
  st.st_size = 0;
  if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size == target) {
    s->eof = target;
    return;
  }
  if (ensure_journal(s) != 0) return;
  int e = mut_ftruncate(true, s->fd, target);
  if (e) {
    fail_step(s, e, "setting the file's length", target > (uint64_t)st.st_size ? target - (uint64_t)st.st_size : 0, s->fd);
    return;
  }
  s->eof = target;
}

bool txn_owned_here(const struct stat *st) {
  for (Session *s = g_live; s; s = s->next)
    if (s->dev == st->st_dev && s->ino == st->st_ino) return true;
  return false;
}

/* Undoes the session; the outcome is added to the session's error, if any. */
static void session_rollback(Session *s) {
  bool ok = true;
  if (s->jfd >= 0) { /* else the file never changed */
    Recovery r;
    IoError e = {0};
    ok = journal_rollback(true, s->fd, s->jfd, s->journal_path, s->dir_path, &r, &e, s->path) == 0;
    if (!ok) {
      if (!s->err.code) {
        s->err = e;
        s->failed = true;
      }
      io_append(&s->err, "; rolling back failed too (%s), so the file will be rolled back the next time it is opened", e.msg);
    }
    close(s->jfd);
    s->jfd = -1;
    registry_remove(s);
  }
  if (ok && s->err.code) io_append(&s->err, "; the file was left unchanged");
}

/* The commit protocol described at the top of this file. */
static void session_commit(Session *s) {
  if (s->overlay.n == 0 && s->jfd < 0) return; /* nothing was written */
  if (ensure_journal(s) != 0) return;
  int e = 0;
  const char *step = "";
  for (size_t i = 0; i < s->overlay.n && !e; i++) {
    const Extent *x = &s->overlay.v[i];
    unsigned char *rec = (unsigned char *)malloc(RECORD_HEAD + (size_t)x->len);
    size_t got = 0;
    if (!rec) { e = ENOMEM; step = "saving pre-images"; break; }
    e = io_read_all(s->fd, rec + RECORD_HEAD, (size_t)x->len, x->off, &got);
    if (!e && got < x->len) e = EIO; /* the file shrank under us */
    step = "reading pre-images";
    if (!e) {
      journal_record_head(rec, x->off, x->len, s->salt, rec + RECORD_HEAD);
      e = mut_pwrite(true, s->jfd, rec, RECORD_HEAD + (size_t)x->len, s->jpos);
      step = "writing the journal";
      s->jpos += RECORD_HEAD + x->len;
    }
    free(rec);
  }
  if (!e) { e = io_fsync(s->jfd); step = "syncing the journal"; }
  for (size_t i = 0; i < s->overlay.n && !e; i++) {
    const Extent *x = &s->overlay.v[i];
    e = mut_pwrite(true, s->fd, x->data, (size_t)x->len, x->off);
    step = "writing metadata";
  }
  if (!e) { e = io_fsync(s->fd); step = "syncing the file"; }
  if (!e) { e = mut_unlink(true, s->journal_path); step = "removing the journal"; }
  if (!e) {
    close(s->jfd);
    s->jfd = -1;
    registry_remove(s);
    /* The commit is done; a lost directory sync only means a rollback of a
     * complete write after power loss, which is still all-or-nothing. */
    io_fsync_dir(s->dir_path);
    return;
  }
  /* The journal needs a record header and a pre-image per overwritten range. */
  fail_step(s, e, step, s->overlay.bytes + RECORD_HEAD * (uint64_t)s->overlay.n, s->fd);
  session_rollback(s);
}

void session_end(Session *s) {
  if (!s->open) return;
  if (s->writable) {
    if (s->failed || s->aborted) session_rollback(s);
    else session_commit(s);
    if (getenv("CELLUCID_TEST_COUNT_WRITES")) fprintf(stderr, "cellucid-writes %llu\n", txn_write_count());
  }
  overlay_free(&s->overlay);
  s->open = false;
  s->fd = -1;
}

