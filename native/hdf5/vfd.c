/*
 * "cellucid_journal": an HDF5 1.10 virtual file driver that does POSIX
 * pread/pwrite on one descriptor like HDF5's sec2 driver, but hands every
 * read, write and truncation to the transaction layer (txn.c), which keeps
 * in-place writes all-or-nothing. It stores no driver info in the
 * superblock, so the files stay plain HDF5 that any sec2 reader opens.
 *
 * The per-open Session travels in the file access property list as a
 * pointer: the binding creates it, the driver takes a reference while the
 * file is open, and the binding reads the outcome after H5Fclose.
 */
#include "vfd.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

typedef struct {
  Session *session;
} DriverInfo;

typedef struct {
  H5FD_t pub; /* must come first: HDF5 casts between the two */
  int fd;
  haddr_t eoa;
  Session *s;
} JFile;

static hid_t g_driver = H5I_INVALID_HID;

static void *info_copy(const void *info) {
  DriverInfo *c = (DriverInfo *)malloc(sizeof *c);
  if (c) *c = *(const DriverInfo *)info;
  return c;
}

static herr_t info_free(void *info) {
  free(info);
  return 0;
}

static void *info_get(H5FD_t *file) {
  DriverInfo i = {((JFile *)file)->s};
  return info_copy(&i);
}

static void report(Session *s, int errnum, const char *what) {
  IoError e;
  e.code = txn_code_for_errno(errnum);
  e.errnum = errnum;
  snprintf(e.msg, sizeof e.msg, "%s: %s: %s", s ? s->path : "file", what, strerror(errnum));
  txn_set_last_error(&e);
}

static H5FD_t *j_open(const char *name, unsigned flags, hid_t fapl, haddr_t maxaddr) {
  (void)maxaddr;
  const DriverInfo *info = (const DriverInfo *)H5Pget_driver_info(fapl);
  if (!info || !info->session || (flags & (H5F_ACC_CREAT | H5F_ACC_TRUNC))) return NULL; /* only opens of existing files */
  Session *s = info->session;
  int fd = open(name, ((flags & H5F_ACC_RDWR) ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    report(s, errno, "cannot open");
    return NULL;
  }
  JFile *f = (JFile *)calloc(1, sizeof *f);
  int e = f ? session_begin(s, fd) : ENOMEM;
  if (e) {
    report(s, e, "cannot open");
    free(f);
    close(fd);
    return NULL;
  }
  s->refs++;
  f->fd = fd;
  f->s = s;
  return &f->pub;
}

static herr_t j_close(H5FD_t *file) {
  JFile *f = (JFile *)file;
  /* Commit or roll back. Never fail towards HDF5: a failed close would leave
   * it half torn down; the outcome is reported through the session. */
  session_end(f->s);
  close(f->fd); /* also drops the file lock, after the commit */
  session_unref(f->s);
  free(f);
  return 0;
}

static int j_cmp(const H5FD_t *a, const H5FD_t *b) {
  const Session *x = ((const JFile *)a)->s, *y = ((const JFile *)b)->s;
  if (x->dev != y->dev) return x->dev < y->dev ? -1 : 1;
  if (x->ino != y->ino) return x->ino < y->ino ? -1 : 1;
  return 0;
}

static herr_t j_query(const H5FD_t *file, unsigned long *flags) {
  (void)file;
  /* As sec2, minus the POSIX-compatible handle: nothing may bypass the journal. */
  *flags = H5FD_FEAT_AGGREGATE_METADATA | H5FD_FEAT_ACCUMULATE_METADATA | H5FD_FEAT_DATA_SIEVE |
           H5FD_FEAT_AGGREGATE_SMALLDATA | H5FD_FEAT_DEFAULT_VFD_COMPATIBLE;
  return 0;
}

static haddr_t j_get_eoa(const H5FD_t *file, H5FD_mem_t type) {
  (void)type;
  return ((const JFile *)file)->eoa;
}

static herr_t j_set_eoa(H5FD_t *file, H5FD_mem_t type, haddr_t addr) {
  (void)type;
  ((JFile *)file)->eoa = addr;
  return 0;
}

static haddr_t j_get_eof(const H5FD_t *file, H5FD_mem_t type) {
  (void)type;
  return (haddr_t)((const JFile *)file)->s->eof;
}

static herr_t j_get_handle(H5FD_t *file, hid_t fapl, void **handle) {
  (void)fapl;
  *handle = &((JFile *)file)->fd;
  return 0;
}

static herr_t j_read(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, void *buf) {
  (void)type; (void)dxpl;
  JFile *f = (JFile *)file;
  if (addr == HADDR_UNDEF || addr + size < addr) return -1;
  return session_read(f->s, addr, size, buf) == 0 ? 0 : -1;
}

static herr_t j_write(H5FD_t *file, H5FD_mem_t type, hid_t dxpl, haddr_t addr, size_t size, const void *buf) {
  (void)type; (void)dxpl;
  JFile *f = (JFile *)file;
  if (addr == HADDR_UNDEF || addr + size < addr || !f->s->writable) return -1;
  bool ok = true;
  session_write(f->s, addr, size, buf, &ok);
  return ok ? 0 : -1;
}

static herr_t j_truncate(H5FD_t *file, hid_t dxpl, hbool_t closing) {
  (void)dxpl; (void)closing;
  JFile *f = (JFile *)file;
  session_truncate(f->s, f->eoa);
  return 0;
}

static herr_t j_lock(H5FD_t *file, hbool_t rw) {
  JFile *f = (JFile *)file;
  if (flock(f->fd, (rw ? LOCK_EX : LOCK_SH) | LOCK_NB) == 0) return 0;
  int e = errno;
  if (e == ENOSYS || e == ENOLCK) return 0; /* no locks on this file system: best effort, as HDF5's BEST_EFFORT */
  if (e != EWOULDBLOCK) {
    report(f->s, e, "cannot lock");
    return -1;
  }
  pid_t pid = txn_lock_holder(f->s->dev, f->s->ino);
  IoError err;
  err.code = "LOCKED";
  err.errnum = e;
  char who[48] = "another process";
  if (pid > 0) snprintf(who, sizeof who, "another process (pid %d)", (int)pid);
  snprintf(err.msg, sizeof err.msg, "%s: locked by %s that has it open%s", f->s->path, who,
           rw ? "; it can be written only when no other program has it open" : " for writing");
  txn_set_last_error(&err);
  return -1;
}

static herr_t j_unlock(H5FD_t *file) {
  JFile *f = (JFile *)file;
  /* A write session keeps its lock until the commit is done (at close). */
  if (f->s->writable && f->s->open) return 0;
  return flock(f->fd, LOCK_UN) == 0 || errno == ENOSYS || errno == ENOLCK ? 0 : -1;
}

static const H5FD_class_t JOURNAL_CLASS = {
    "cellucid_journal",
    (haddr_t)INT64_MAX,
    H5F_CLOSE_WEAK,
    NULL,               /* terminate */
    NULL, NULL, NULL,   /* no superblock driver info: files stay sec2-compatible */
    sizeof(DriverInfo), info_get, info_copy, info_free,
    0, NULL, NULL,      /* no transfer properties */
    j_open, j_close, j_cmp, j_query,
    NULL,               /* get_type_map */
    NULL, NULL,         /* alloc, free: HDF5's defaults */
    j_get_eoa, j_set_eoa, j_get_eof, j_get_handle,
    j_read, j_write,
    NULL,               /* flush: durability is the commit's job */
    j_truncate, j_lock, j_unlock,
    H5FD_FLMAP_DICHOTOMY,
};

int vfd_init(void) {
  g_driver = H5FDregister(&JOURNAL_CLASS);
  return g_driver < 0 ? -1 : 0;
}

int vfd_set(hid_t fapl, Session *s) {
  DriverInfo info = {s};
  return H5Pset_driver(fapl, g_driver, &info) < 0 ? -1 : 0;
}
