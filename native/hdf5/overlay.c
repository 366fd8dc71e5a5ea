/*
 * The in-memory overlay of a write session: byte ranges written below the
 * file's original end, kept until commit and consulted by every read.
 */
#include "txn_internal.h"

#include <stdlib.h>
#include <string.h>

void overlay_free(Overlay *o) {
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

bool overlay_put(Overlay *o, uint64_t off, size_t len, const void *buf) {
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

void overlay_patch(const Overlay *o, uint64_t off, size_t len, unsigned char *buf) {
  uint64_t end = off + len;
  for (size_t i = overlay_find(o, off); i < o->n && o->v[i].off < end; i++) {
    const Extent *e = &o->v[i];
    uint64_t a = e->off > off ? e->off : off;
    uint64_t b = e->off + e->len < end ? e->off + e->len : end;
    if (a < b) memcpy(buf + (a - off), e->data + (a - e->off), (size_t)(b - a));
  }
}

