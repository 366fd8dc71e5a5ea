/*
 * Plain I/O for the transaction layer, classified errors, and the test hooks:
 * every mutation of a write session goes through mut_*, which count it and
 * can crash or fail it on request (CELLUCID_TEST_CRASH_AT_WRITE,
 * CELLUCID_TEST_FAIL_AT_WRITE).
 */
#include "txn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <unistd.h>

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

void io_verror(IoError *e, const char *code, int errnum, const char *fmt, va_list ap) {
  e->code = code ? code : txn_code_for_errno(errnum);
  e->errnum = errnum;
  vsnprintf(e->msg, sizeof e->msg, fmt, ap);
}

void io_error(IoError *e, const char *code, int errnum, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  io_verror(e, code, errnum, fmt, ap);
  va_end(ap);
}

void io_append(IoError *e, const char *fmt, ...) {
  size_t n = strlen(e->msg);
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(e->msg + n, sizeof e->msg - n, fmt, ap);
  va_end(ap);
}


/* "N bytes free" for ENOSPC messages: the user needs to know how short they are. */
unsigned long long io_free_bytes(int fd) {
  struct statvfs v;
  if (fstatvfs(fd, &v) != 0) return 0;
  return (unsigned long long)v.f_bavail * v.f_frsize;
}

/* ---- test hooks ----------------------------------------------------------- */

static unsigned long long g_writes;

unsigned long long txn_write_count(void) { return g_writes; }

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

int io_read_all(int fd, void *buf, size_t len, uint64_t off, size_t *got) {
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

int io_write_all(int fd, const void *buf, size_t len, uint64_t off) {
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
int mut_pwrite(bool counted, int fd, const void *buf, size_t len, uint64_t off) {
  int inj = counted ? counted_op() : 0;
  return inj ? inj : io_write_all(fd, buf, len, off);
}

int mut_ftruncate(bool counted, int fd, uint64_t len) {
  int inj = counted ? counted_op() : 0;
  if (inj) return inj;
  return ftruncate(fd, (off_t)len) == 0 ? 0 : errno;
}

int mut_unlink(bool counted, const char *path) {
  int inj = counted ? counted_op() : 0;
  if (inj) return inj;
  return unlink(path) == 0 || errno == ENOENT ? 0 : errno;
}

int io_fsync(int fd) { return fsync(fd) == 0 ? 0 : errno; }

/* Makes a create or unlink in `dir` durable. */
int io_fsync_dir(const char *dir) {
  int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return errno;
  int rc = fsync(fd) == 0 || errno == EINVAL ? 0 : errno; /* some file systems cannot sync directories */
  close(fd);
  return rc;
}

