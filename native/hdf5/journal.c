/*
 * The journal file, FILE-cellucid-journal: its format, rolling it back, and
 * the recovery every open runs first (see txn.c for the protocol).
 *
 * Format (little-endian): a 40-byte header, "CLCDJRN1", the original length,
 * a random salt, 8 reserved bytes, and a checksum of those 32 bytes; then
 * records: offset, length, checksum (salted, over both and the data), and
 * the pre-image bytes. The salt keeps stale bytes of an earlier journal from
 * passing as records of this one.
 */
#include "txn_internal.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#if defined(__linux__)
#include <sys/sysmacros.h>
#endif
#include <unistd.h>

static const unsigned char MAGIC[8] = {'C', 'L', 'C', 'D', 'J', 'R', 'N', '1'};

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


void journal_header(unsigned char h[HEADER_SIZE], uint64_t orig_len, uint64_t salt) {
  memcpy(h, MAGIC, 8);
  put64(h + 8, orig_len);
  put64(h + 16, salt);
  put64(h + 24, 0);
  put64(h + 32, sum64(0xcbf29ce484222325ULL, h, 32));
}

void journal_record_head(unsigned char rec[RECORD_HEAD], uint64_t off, uint64_t len, uint64_t salt, const unsigned char *data) {
  put64(rec, off);
  put64(rec + 8, len);
  put64(rec + 16, record_sum(salt, rec, data, len));
}

int journal_rollback(bool counted, int fd, int jfd, const char *jpath, const char *dir, Recovery *out, IoError *err, const char *path) {
  unsigned char h[HEADER_SIZE];
  size_t got = 0;
  int e = io_read_all(jfd, h, HEADER_SIZE, 0, &got);
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
    /* A session never shrinks the file below its original length: a shorter
     * file is not the one this journal was written for (it was replaced). */
    if ((uint64_t)st.st_size < orig) {
      io_error(err, "IO", 0, "%s: the journal %s is for a file of at least %llu bytes, not this one (%llu bytes); "
               "remove the journal if the file is intact", path, jpath, (unsigned long long)orig, (unsigned long long)st.st_size);
      return -1;
    }
    for (;;) {
      unsigned char r[RECORD_HEAD];
      if (io_read_all(jfd, r, RECORD_HEAD, pos, &got) || got < RECORD_HEAD) break;
      uint64_t off = get64(r), len = get64(r + 8);
      if (len == 0 || len > orig || off > orig - len) break; /* garbage: a torn tail */
      unsigned char *d = (unsigned char *)malloc((size_t)len);
      if (!d) {
        io_error(err, "IO", ENOMEM, "%s: out of memory reading the journal %s", path, jpath);
        return -1;
      }
      if (io_read_all(jfd, d, (size_t)len, pos + RECORD_HEAD, &got) || got < len || record_sum(salt, r, d, len) != get64(r + 16)) {
        free(d);
        break;
      }
      e = mut_pwrite(counted, fd, d, (size_t)len, off);
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
    if ((uint64_t)st.st_size != orig && (e = mut_ftruncate(counted, fd, orig)) != 0) {
      io_error(err, NULL, e, "%s: cannot truncate to its original %llu bytes: %s", path, (unsigned long long)orig, strerror(e));
      return -1;
    }
    if ((e = io_fsync(fd)) != 0) {
      io_error(err, NULL, e, "%s: cannot sync the rolled-back file: %s", path, strerror(e));
      return -1;
    }
  }
  if ((e = mut_unlink(counted, jpath)) != 0 || (e = io_fsync_dir(dir)) != 0) {
    io_error(err, NULL, e, "%s: cannot remove the journal %s: %s", path, jpath, strerror(e));
    return -1;
  }
  return 0;
}

/* ---- recovery ------------------------------------------------------------- */

int journal_paths(const char *path, char **jpath, char **dir) {
  /* Beside the real file, so that every path to it (a symlink) finds it. */
  char *real = realpath(path, NULL);
  const char *base = real ? real : path;
  size_t n = strlen(base);
  char *copy = strdup(base);
  *jpath = (char *)malloc(n + sizeof JOURNAL_SUFFIX);
  *dir = copy ? strdup(dirname(copy)) : NULL;
  if (*jpath) {
    memcpy(*jpath, base, n);
    memcpy(*jpath + n, JOURNAL_SUFFIX, sizeof JOURNAL_SUFFIX);
  }
  free(copy);
  free(real);
  if (*jpath && *dir) return 0;
  free(*jpath);
  free(*dir);
  *jpath = *dir = NULL;
  return -1;
}

bool txn_foreign_journal(const char *path) {
  struct stat st;
  char *j = NULL, *dir = NULL;
  bool found = journal_paths(path, &j, &dir) == 0 && access(j, F_OK) == 0 && stat(path, &st) == 0 && !txn_owned_here(&st);
  free(j);
  free(dir);
  return found;
}

/* Linux lists every lock in /proc/locks: "1: FLOCK ADVISORY WRITE <pid> <maj>:<min>:<inode> 0 EOF". */
pid_t txn_lock_holder(dev_t dev, ino_t ino) {
#if defined(__linux__)
  FILE *f = fopen("/proc/locks", "r");
  if (!f) return 0;
  char line[256];
  pid_t found = 0;
  while (!found && fgets(line, sizeof line, f)) {
    int pid;
    unsigned maj, min;
    unsigned long long node;
    const char *p = strchr(line, ':');
    if (!p || strstr(line, "->")) continue; /* waiters, not holders */
    if (sscanf(p + 1, " %*s %*s %*s %d %x:%x:%llu", &pid, &maj, &min, &node) == 4 &&
        makedev(maj, min) == dev && node == (unsigned long long)ino && pid != getpid())
      found = pid;
  }
  fclose(f);
  return found;
#else
  (void)dev; (void)ino;
  return 0;
#endif
}

int txn_recover(const char *path, Recovery *out, IoError *err) {
  memset(out, 0, sizeof *out);
  char *jpath = NULL, *dir = NULL;
  int rc = 0, fd = -1, jfd = -1;
  struct stat st;
  if (journal_paths(path, &jpath, &dir) != 0) {
    io_error(err, "IO", ENOMEM, "%s: out of memory", path);
    rc = -1;
    goto done;
  }
  if (access(jpath, F_OK) != 0) goto done;
  if (stat(path, &st) == 0 && txn_owned_here(&st)) goto done; /* our own open session */
  fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0 && errno == ENOENT) goto done; /* no file to roll back: opening it reports that */
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

