/*
 * Write transactions for .h5ad files: a rollback journal kept by our HDF5
 * virtual file driver (vfd.c), SQLite style. See txn.c for the protocol and
 * why it is built this way.
 */
#ifndef CELLUCID_HDF5_TXN_H
#define CELLUCID_HDF5_TXN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define JOURNAL_SUFFIX "-cellucid-journal"

/* An I/O failure, classified for the JS side (AnnDataError codes). */
typedef struct {
  const char *code; /* NULL (none), "LOCKED", "NO_SPACE", "PERMISSION_DENIED", "IO" */
  int errnum;
  char msg[768];
} IoError;

/* Byte ranges written below the original end of file, kept in memory until
 * commit. Sorted, non-overlapping, non-adjacent. */
typedef struct {
  uint64_t off, len, cap;
  unsigned char *data;
} Extent;

typedef struct {
  Extent *v;
  size_t n, cap;
  uint64_t bytes;
} Overlay;

/* What a rollback found and did (recoverH5ad's answer). */
typedef struct {
  bool rolled_back;       /* a journal was found and removed */
  uint64_t restored;      /* bytes of pre-images written back */
  uint64_t records;       /* pre-image records applied */
  uint64_t original_len;  /* length the file was truncated to */
  uint64_t truncated;     /* bytes removed from the end (the interrupted appends) */
} Recovery;

/*
 * One open of one file through our driver. Created by the binding (owned by
 * the JS NativeFile) and handed to the driver through the file access
 * property list; reference counted because HDF5 may close the driver after
 * the JS object is gone (or the other way round).
 */
typedef struct Session {
  int refs;
  bool writable;        /* opened r+: writes are a transaction */
  char *path, *journal_path, *dir_path;
  /* Set by the driver while the file is open. */
  bool open;
  int fd;               /* the data file's descriptor (owned by the driver) */
  dev_t dev;
  ino_t ino;
  uint64_t orig_len;    /* the file's length when the session began */
  uint64_t eof;         /* logical end of file (disk or overlay) */
  Overlay overlay;
  int jfd;              /* journal descriptor, -1 until the first change */
  uint64_t jpos, salt;
  bool failed;          /* an I/O error happened: the session can only roll back */
  bool aborted;         /* the caller asked for a rollback */
  IoError err;          /* the first failure, reported to JS */
  Recovery recovered;   /* what opening rolled back */
  struct Session *next; /* registry of sessions with a live journal */
} Session;

Session *session_new(const char *path, bool writable);
void session_unref(Session *s);
/* Record the first failure (later ones are consequences). */
void session_fail(Session *s, const char *code, int errnum, const char *fmt, ...);

/* Driver hooks (vfd.c calls these). */
int session_begin(Session *s, int fd);      /* at driver open */
int session_read(Session *s, uint64_t off, size_t len, void *buf);
/* *ok is false only when the data could not be kept at all (out of memory). */
void session_write(Session *s, uint64_t off, size_t len, const void *buf, bool *ok);
void session_truncate(Session *s, uint64_t len);
void session_end(Session *s);               /* at driver close: commit or roll back */

/* Roll back an interrupted transaction on `path`, if its journal exists. */
int txn_recover(const char *path, Recovery *out, IoError *err);
/* Whether `path` has a journal that no session of this process owns. */
bool txn_foreign_journal(const char *path);
/* The pid holding a lock on the file (from /proc/locks), 0 if unknown. */
pid_t txn_lock_holder(dev_t dev, ino_t ino);

/* The last I/O error seen by the driver (cleared by taking it). */
void txn_set_last_error(const IoError *e);
bool txn_take_last_error(IoError *out);
const char *txn_code_for_errno(int errnum);

#endif
