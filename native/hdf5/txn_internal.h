/*
 * Shared by the transaction layer's files: txn.c (sessions and the commit
 * protocol), journal.c (the journal format, rollback, recovery), overlay.c
 * (bytes held in memory until commit) and txn_io.c (I/O, errors, test hooks).
 */
#ifndef CELLUCID_HDF5_TXN_INTERNAL_H
#define CELLUCID_HDF5_TXN_INTERNAL_H

#include <stdarg.h>
#include <sys/stat.h>

#include "txn.h"

#define HEADER_SIZE 40
#define RECORD_HEAD 24

/* ---- txn_io.c ---- */
void io_verror(IoError *e, const char *code, int errnum, const char *fmt, va_list ap);
void io_error(IoError *e, const char *code, int errnum, const char *fmt, ...);
void io_append(IoError *e, const char *fmt, ...);
/* Free bytes on fd's file system, for "disk full" messages. */
unsigned long long io_free_bytes(int fd);
/* 0 or an errno; io_read_all stops at end of file (*got < len). */
int io_read_all(int fd, void *buf, size_t len, uint64_t off, size_t *got);
int io_write_all(int fd, const void *buf, size_t len, uint64_t off);
int io_fsync(int fd);
int io_fsync_dir(const char *dir);
/* Mutations: counted and fault-injectable when `counted` (a write session's). */
int mut_pwrite(bool counted, int fd, const void *buf, size_t len, uint64_t off);
int mut_ftruncate(bool counted, int fd, uint64_t len);
int mut_unlink(bool counted, const char *path);
unsigned long long txn_write_count(void);

/* ---- overlay.c ---- */
void overlay_free(Overlay *o);
bool overlay_put(Overlay *o, uint64_t off, size_t len, const void *buf);
/* Copy the overlay's bytes over buf, which holds [off, off+len) of the file. */
void overlay_patch(const Overlay *o, uint64_t off, size_t len, unsigned char *buf);

/* ---- journal.c ---- */
/* The journal's path and its directory for data file `path` (malloc'd). */
int journal_paths(const char *path, char **jpath, char **dir);
void journal_header(unsigned char h[HEADER_SIZE], uint64_t orig_len, uint64_t salt);
/* Fill a record's head for `len` pre-image bytes at `data`. */
void journal_record_head(unsigned char rec[RECORD_HEAD], uint64_t off, uint64_t len, uint64_t salt, const unsigned char *data);
/* Write the journal's pre-images back, truncate to the original length and
 * remove the journal. Shared by recovery (uncounted) and failed sessions. */
int journal_rollback(bool counted, int fd, int jfd, const char *jpath, const char *dir, Recovery *out, IoError *err, const char *path);

/* ---- txn.c ---- */
/* Whether a session of this process has a live journal for this file. */
bool txn_owned_here(const struct stat *st);

#endif
