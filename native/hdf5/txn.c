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
 * through counted_op(), which also implements the test hooks
 * CELLUCID_TEST_CRASH_AT_WRITE, CELLUCID_TEST_FAIL_AT_WRITE and
 * CELLUCID_TEST_COUNT_WRITES.
 */
#include "txn.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/sysmacros.h>
#include <time.h>
#include <unistd.h>

#define HEADER_SIZE 40
#define RECORD_HEAD 24
static const unsigned char MAGIC[8] = {'C', 'L', 'C', 'D', 'J', 'R', 'N', '1'};

/* ---- errors --------------------------------------------------------------- */

static IoError g_last;

void txn_set_last_error(const IoError *e) { g_last = *e; }

bool txn_take_last_error(IoError *out) {
  if (!g_last.code) return false;
  *out = g_last;
  memset(&g_last, 0, sizeof g_last);
  return true;
}

const char *txn_code_for_errno(int errnum) {
  switch (errnum) {
    case ENOSPC:
    case EDQUOT: return "NO_SPACE";
    case EACCES:
    case EPERM:
    case EROFS: return "PERMISSION_DENIED";
    case EWOULDBLOCK: return "LOCKED";
    default: return "IO";
  }
}

static void set_error(IoError *e, const char *code, int errnum, const char *fmt, va_list ap) {
  e->code = code ? code : txn_code_for_errno(errnum);
  e->errnum = errnum;
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

static void io_error(IoError *e, const char *code, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  set_error(e, code, errnum, fmt, ap);
  va_end(ap);
}

void session_fail(Session *s, const char *code, int errnum, const char *fmt, ...) {
  s->failed = true;
  if (s->err.code) return;
  va_list ap;
  va_start(ap, fmt);
  set_error(&s->err, code, errnum, fmt, ap);
  va_end(ap);
  txn_set_last_error(&s->err);
}

static void append_msg(IoError *e, const char *fmt, ...) {
  size_t n = strlen(e->msg);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
  va_end(ap);
}

/* "N bytes free" for ENOSPC messages: the user needs to know how short they are. */
static unsigned long long free_bytes(int fd) {
  struct statvfs v;
  if (fstatvfs(fd, &v) != 0) return 0;
  return (unsigned long long)v.f_bavail * v.f_frsize;
}

/* ---- test hooks ----------------------------------------------------------- */

static unsigned long long g_writes;

/* Called before each mutating operation of a write session: returns an errno
 * to inject, or 0. A crash is _exit, as abrupt as kill -9 (no atexit, no
 * flush, page cache kept: what a killed process leaves). */
static int counted_op(void) {
  g_writes++;
  const char *crash = getenv("CELLUCID_TEST_CRASH_AT_WRITE");
  if (crash && strtoull(crash, NULL, 10) == g_writes) _exit(137);
  const char *fail = getenv("CELLUCID_TEST_FAIL_AT_WRITE");
  if (fail) {
    char *rest = NULL;
    unsigned long long n = strtoull(fail, &rest, 10);
    if (n == g_writes) {
      if (rest && strcmp(rest, ":ENOSPC") == 0) return ENOSPC;
      if (rest && strcmp(rest, ":EACCES") == 0) return EACCES;
      return EIO;
    }
  }
  return 0;
}

/* ---- plain I/O ------------------------------------------------------------ */

static int full_pread(int fd, void *buf, size_t len, uint64_t off, size_t *got) {
  size_t done = 0;
  while (done < len) {
    ssize_t r = pread(fd, (char *)buf + done, len - done, (off_t)(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    if (r == 0) break;
    done += (size_t)r;
  }
  if (got) *got = done;
  return 0;
}

static int full_pwrite(int fd, const void *buf, size_t len, uint64_t off) {
  size_t done = 0;
  while (done < len) {
    ssize_t r = pwrite(fd, (const char *)buf + done, len - done, (off_t)(off + done));
    if (r < 0) {
      if (errno == EINTR) continue;
      return errno;
    }
    done += (size_t)r;
  }
  return 0;
}

/* Mutations, counted (and fault-injectable) when `counted`. */
static int m_pwrite(bool counted, int fd, const void *buf, size_t len, uint64_t off) {
  int inj = counted ? counted_op() : 0;
  return inj ? inj : full_pwrite(fd, buf, len, off);
}

static int m_ftruncate(bool counted, int fd, uint64_t len) {
  int inj = counted ? counted_op() : 0;
  if (inj) return inj;
  return ftruncate(fd, (off_t)len) == 0 ? 0 : errno;
}

static int m_unlink(bool counted, const char *path) {
  int inj = counted ? counted_op() : 0;
  if (inj) return inj;
  return unlink(path) == 0 || errno == ENOENT ? 0 : errno;
}

static int do_fsync(int fd) { return fsync(fd) == 0 ? 0 : errno; }

/* Makes a create or unlink in `dir` durable. */
static int fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : errno; /* some file systems cannot sync directories */
  close(fd);
  return rc;
}

/* ---- checksums and encoding ------------------------------------------------ */

/* FNV-1a, 64-bit: enough to tell a written record from a torn or stale one. */
static uint64_t sum64(uint64_t h, const unsigned char *p, size_t n) {
  for (size_t i = 0; i < n; i++) {
    h ^= p[i];
    h *= 0x100000001b3ULL;
  }
  return h;
}

static void put64(unsigned char *p, uint64_t v) {
  for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i));
}

static uint64_t get64(const unsigned char *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

static uint64_t record_sum(uint64_t salt, const unsigned char *head16, const unsigned char *data, uint64_t len) {
  return sum64(sum64(salt ^ 0xcbf29ce484222325ULL, head16, 16), data, (size_t)len);
}

/* ---- overlay -------------------------------------------------------------- */

static void overlay_free(Overlay *o) {
  for (size_t i = 0; i < o->n; i++) free(o->v[i].data);
  free(o->v);
  memset(o, 0, sizeof *o);
}

/* First extent whose end reaches `off` (touching counts, so neighbours merge). */
static size_t overlay_find(const Overlay *o, uint64_t off) {
  size_t lo = 0, hi = o->n;
  while (lo < hi) {
    size_t mid = (lo + hi) / 2;
    if (o->v[mid].off + o->v[mid].len < off) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

static bool overlay_put(Overlay *o, uint64_t off, size_t len, const void *buf) {
  if (len == 0) return true;
  uint64_t end = off + len;
  size_t i = overlay_find(o, off), j = i;
  while (j < o->n && o->v[j].off <= end) j++;
  /* Sequential writes extend the same extent: grow it geometrically. */
  if (j == i + 1 && o->v[i].off <= off && o->v[i].off + o->v[i].len == off) {
    Extent *e = &o->v[i];
    uint64_t need = e->len + len;
    if (need > e->cap) {
      uint64_t cap = e->cap * 2 > need ? e->cap * 2 : need;
      unsigned char *d = (unsigned char *)realloc(e->data, (size_t)cap);
      if (!d) return false;
      e->data = d;
      e->cap = cap;
    }
    memcpy(e->data + e->len, buf, len);
    e->len = need;
    o->bytes += len;
    return true;
  }
  uint64_t lo = off, hi = end;
  if (j > i) {
    if (o->v[i].off < lo) lo = o->v[i].off;
    if (o->v[j - 1].off + o->v[j - 1].len > hi) hi = o->v[j - 1].off + o->v[j - 1].len;
  }
  unsigned char *d = (unsigned char *)malloc((size_t)(hi - lo));
  if (!d) return false;
  uint64_t old = 0;
  for (size_t k = i; k < j; k++) {
    memcpy(d + (o->v[k].off - lo), o->v[k].data, (size_t)o->v[k].len);
    old += o->v[k].len;
    free(o->v[k].data);
  }
  memcpy(d + (off - lo), buf, len);
  if (j == i) { /* insert a new extent at i */
    if (o->n == o->cap) {
      size_t cap = o->cap ? o->cap * 2 : 16;
      Extent *v = (Extent *)realloc(o->v, cap * sizeof *v);
      if (!v) { free(d); return false; }
      o->v = v;
      o->cap = cap;
    }
    memmove(o->v + i + 1, o->v + i, (o->n - i) * sizeof *o->v);
    o->n++;
  } else if (j > i + 1) { /* several merged into one */
    memmove(o->v + i + 1, o->v + j, (o->n - j) * sizeof *o->v);
    o->n -= j - i - 1;
  }
  o->v[i] = (Extent){lo, hi - lo, hi - lo, d};
  o->bytes = o->bytes - old + (hi - lo);
  return true;
}

static void overlay_patch(const Overlay *o, uint64_t off, size_t len, unsigned char *buf) {
  uint64_t end = off + len;
  for (size_t i = overlay_find(o, off); i < o->n && o->v[i].off < end; i++) {
    const Extent *e = &o->v[i];
    uint64_t a = e->off > off ? e->off : off;
    uint64_t b = e->off + e->len < end ? e->off + e->len : end;
    if (a < b) memcpy(buf + (a - off), e->data + (a - e->off), (size_t)(b - a));
  }
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
  size_t n = strlen(path);
  s->path = strdup(path);
  s->journal_path = (char *)malloc(n + sizeof JOURNAL_SUFFIX);
  char *tmp = strdup(path);
  s->dir_path = tmp ? strdup(dirname(tmp)) : NULL;
  free(tmp);
  if (!s->path || !s->journal_path || !s->dir_path) {
    session_unref(s);
    return NULL;
  }
  memcpy(s->journal_path, path, n);
  memcpy(s->journal_path + n, JOURNAL_SUFFIX, sizeof JOURNAL_SUFFIX);
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
    int e = errno;
    session_fail(s, NULL, e, "%s: cannot create the journal %s: %s", s->path, s->journal_path, strerror(e));
    return -1;
  }
  if (getrandom(&s->salt, sizeof s->salt, 0) != (ssize_t)sizeof s->salt)
    s->salt = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)(uintptr_t)s;
  unsigned char h[HEADER_SIZE];
  memcpy(h, MAGIC, 8);
  put64(h + 8, s->orig_len);
  put64(h + 16, s->salt);
  put64(h + 24, 0);
  put64(h + 32, sum64(0xcbf29ce484222325ULL, h, 32));
  int e = m_pwrite(true, jfd, h, HEADER_SIZE, 0);
  if (!e) e = do_fsync(jfd);
  if (!e) e = fsync_dir(s->dir_path);
  if (e) {
    /* No byte of the data file has changed yet: the journal is just removed. */
    close(jfd);
    unlink(s->journal_path);
    session_fail(s, NULL, e, "%s: cannot write the journal %s: %s%s", s->path, s->journal_path, strerror(e),
                 e == ENOSPC ? " (the disk is full)" : "");
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
  int e = full_pread(s->fd, buf, len, off, &got);
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
  int e = m_pwrite(true, s->fd, rest, n, at);
  if (e) {
    if (e == ENOSPC || e == EDQUOT)
      session_fail(s, NULL, e, "%s: no space left on the device holding %s: %zu more bytes needed at offset %llu, %llu bytes free",
                   s->path, s->dir_path, n, (unsigned long long)at, free_bytes(s->fd));
    else
      session_fail(s, NULL, e, "%s: cannot write %zu bytes at offset %llu: %s", s->path, n, (unsigned long long)at, strerror(e));
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
  if (fstat(s->fd, &st) == 0 && (uint64_t)st.st_size == target) {
    s->eof = target;
    return;
  }
  if (ensure_journal(s) != 0) return;
  int e = m_ftruncate(true, s->fd, target);
  if (e) {
    session_fail(s, NULL, e, "%s: cannot set the file's length to %llu bytes: %s", s->path, (unsigned long long)target, strerror(e));
    return;
  }
  s->eof = target;
}

/* Writes the journal's pre-images back, truncates to the original length and
 * removes the journal. Shared by recovery (uncounted) and failed sessions. */
static int journal_rollback(bool counted, int fd, int jfd, const char *jpath, const char *dir, Recovery *out, IoError *err, const char *path) {
  unsigned char h[HEADER_SIZE];
  size_t got = 0;
  int e = full_pread(jfd, h, HEADER_SIZE, 0, &got);
  struct stat st;
  if (!e && fstat(fd, &st) != 0) e = errno;
  if (e) {
    io_error(err, NULL, e, "%s: cannot read the journal %s: %s", path, jpath, strerror(e));
    return -1;
  }
  memset(out, 0, sizeof *out);
  out->rolled_back = true;
  out->original_len = (uint64_t)st.st_size;
  bool valid = got == HEADER_SIZE && memcmp(h, MAGIC, 8) == 0 && get64(h + 32) == sum64(0xcbf29ce484222325ULL, h, 32);
  /* An invalid header was never fsync'd, so the file was never changed. */
  if (valid) {
    uint64_t orig = get64(h + 8), salt = get64(h + 16), pos = HEADER_SIZE;
    out->original_len = orig;
    for (;;) {
      unsigned char r[RECORD_HEAD];
      if (full_pread(jfd, r, RECORD_HEAD, pos, &got) || got < RECORD_HEAD) break;
      uint64_t off = get64(r), len = get64(r + 8);
      if (len == 0 || len > orig || off > orig - len) break; /* garbage: a torn tail */
      unsigned char *d = (unsigned char *)malloc((size_t)len);
      if (!d) {
        io_error(err, "IO", ENOMEM, "%s: out of memory reading the journal %s", path, jpath);
        return -1;
      }
      if (full_pread(jfd, d, (size_t)len, pos + RECORD_HEAD, &got) || got < len || record_sum(salt, r, d, len) != get64(r + 16)) {
        free(d);
        break;
      }
      e = m_pwrite(counted, fd, d, (size_t)len, off);
      free(d);
      if (e) {
        io_error(err, NULL, e, "%s: cannot write back %llu bytes at offset %llu from the journal %s: %s", path,
                 (unsigned long long)len, (unsigned long long)off, jpath, strerror(e));
        return -1;
      }
      out->records++;
      out->restored += len;
      pos += RECORD_HEAD + len;
    }
    if ((uint64_t)st.st_size > orig) out->truncated = (uint64_t)st.st_size - orig;
    if ((uint64_t)st.st_size != orig && (e = m_ftruncate(counted, fd, orig)) != 0) {
      io_error(err, NULL, e, "%s: cannot truncate to its original %llu bytes: %s", path, (unsigned long long)orig, strerror(e));
      return -1;
    }
    if ((e = do_fsync(fd)) != 0) {
      io_error(err, NULL, e, "%s: cannot sync the rolled-back file: %s", path, strerror(e));
      return -1;
    }
  }
  if ((e = m_unlink(counted, jpath)) != 0 || (e = fsync_dir(dir)) != 0) {
    io_error(err, NULL, e, "%s: cannot remove the journal %s: %s", path, jpath, strerror(e));
    return -1;
  }
  return 0;
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
      append_msg(&s->err, "; rolling back failed too (%s), so the file will be rolled back the next time it is opened", e.msg);
    }
    close(s->jfd);
    s->jfd = -1;
    registry_remove(s);
  }
  if (ok && s->err.code) append_msg(&s->err, "; the file was left unchanged");
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
    put64(rec, x->off);
    put64(rec + 8, x->len);
    e = full_pread(s->fd, rec + RECORD_HEAD, (size_t)x->len, x->off, &got);
    if (!e && got < x->len) e = EIO; /* the file shrank under us */
    step = "reading pre-images";
    if (!e) {
      put64(rec + 16, record_sum(s->salt, rec, rec + RECORD_HEAD, x->len));
      e = m_pwrite(true, s->jfd, rec, RECORD_HEAD + (size_t)x->len, s->jpos);
      step = "writing the journal";
      s->jpos += RECORD_HEAD + x->len;
    }
    free(rec);
  }
  if (!e) { e = do_fsync(s->jfd); step = "syncing the journal"; }
  for (size_t i = 0; i < s->overlay.n && !e; i++) {
    const Extent *x = &s->overlay.v[i];
    e = m_pwrite(true, s->fd, x->data, (size_t)x->len, x->off);
    step = "writing metadata";
  }
  if (!e) { e = do_fsync(s->fd); step = "syncing the file"; }
  if (!e) { e = m_unlink(true, s->journal_path); step = "removing the journal"; }
  if (!e) {
    close(s->jfd);
    s->jfd = -1;
    registry_remove(s);
    /* The commit is done; a lost directory sync only means a rollback of a
     * complete write after power loss, which is still all-or-nothing. */
    fsync_dir(s->dir_path);
    return;
  }
  if (e == ENOSPC || e == EDQUOT)
    session_fail(s, NULL, e, "%s: no space left on the device holding %s while %s (%llu bytes of metadata to save, %llu bytes free)",
                 s->path, s->dir_path, step, (unsigned long long)s->overlay.bytes, free_bytes(s->jfd));
  else
    session_fail(s, NULL, e, "%s: %s failed: %s", s->path, step, strerror(e));
  session_rollback(s);
}

void session_end(Session *s) {
  if (!s->open) return;
  if (s->writable) {
    if (s->failed || s->aborted) session_rollback(s);
    else session_commit(s);
    if (getenv("CELLUCID_TEST_COUNT_WRITES")) fprintf(stderr, "cellucid-writes %llu\n", g_writes);
  }
  overlay_free(&s->overlay);
  s->open = false;
  s->fd = -1;
}

/* ---- recovery ------------------------------------------------------------- */

static bool owned_here(const struct stat *st) {
  for (Session *s = g_live; s; s = s->next)
    if (s->dev == st->st_dev && s->ino == st->st_ino) return true;
  return false;
}

static char *journal_path_of(const char *path) {
  size_t n = strlen(path);
  char *j = (char *)malloc(n + sizeof JOURNAL_SUFFIX);
  if (j) {
    memcpy(j, path, n);
    memcpy(j + n, JOURNAL_SUFFIX, sizeof JOURNAL_SUFFIX);
  }
  return j;
}

bool txn_foreign_journal(const char *path) {
  struct stat st;
  char *j = journal_path_of(path);
  bool found = j && access(j, F_OK) == 0 && stat(path, &st) == 0 && !owned_here(&st);
  free(j);
  return found;
}

pid_t txn_lock_holder(dev_t dev, ino_t ino) {
  FILE *f = fopen("/proc/locks", "r");
  if (!f) return 0;
  char line[256];
  pid_t found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    char kind[16];
    int pid;
    unsigned maj, min;
    unsigned long long node;
    const char *p = strchr(line, ':');
    if (!p || strstr(line, "->")) continue; /* waiters, not holders */
    if (sscanf(p + 1, " %15s %*s %*s %d %x:%x:%llu", kind, &pid, &maj, &min, &node) == 5 &&
        makedev(maj, min) == dev && node == (unsigned long long)ino && pid != getpid())
      found = pid;
  }
  fclose(f);
  return found;
}

int txn_recover(const char *path, Recovery *out, IoError *err) {
  memset(out, 0, sizeof *out);
  char *jpath = journal_path_of(path);
  char *tmp = strdup(path);
  char *dir = tmp ? strdup(dirname(tmp)) : NULL;
  free(tmp);
  int rc = 0, fd = -1, jfd = -1;
  struct stat st;
  if (!jpath || !dir) {
    io_error(err, "IO", ENOMEM, "%s: out of memory", path);
    rc = -1;
    goto done;
  }
  if (access(jpath, F_OK) != 0) goto done;
  if (stat(path, &st) == 0 && owned_here(&st)) goto done; /* our own open session */
  fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    io_error(err, NULL, e, "%s: an interrupted write left the journal %s, and rolling it back needs write access: %s",
             path, jpath, strerror(e));
    rc = -1;
    goto done;
  }
  if (flock(fd, LOCK_EX | LOCK_NB) != 0 && errno != ENOSYS && errno != ENOLCK) {
    int e = errno;
    if (e == EWOULDBLOCK) {
      struct stat fs;
      pid_t pid = fstat(fd, &fs) == 0 ? txn_lock_holder(fs.st_dev, fs.st_ino) : 0;
      char who[48] = "another process";
      if (pid > 0) snprintf(who, sizeof who, "another process (pid %d)", (int)pid);
      io_error(err, "LOCKED", e, "%s: locked by %s, which is writing it", path, who);
    } else {
      io_error(err, NULL, e, "%s: cannot lock it to roll back its journal: %s", path, strerror(e));
    }
    rc = -1;
    goto done;
  }
  jfd = open(jpath, O_RDONLY | O_CLOEXEC);
  if (jfd < 0) goto done; /* another process rolled it back meanwhile */
  rc = journal_rollback(false, fd, jfd, jpath, dir, out, err, path);

done:
  if (jfd >= 0) close(jfd);
  if (fd >= 0) close(fd); /* releases the lock */
  free(jpath);
  free(dir);
  return rc;
}
