/*
 * Dataset metadata, reads and 1-D creation.
 *
 * Reads go straight into JS-owned ArrayBuffers (no intermediate copy) for
 * numeric and bool data; strings are decoded element by element. Reads select
 * a contiguous range along the first axis, which covers AnnData's columnar
 * access (obs/var columns) and row blocks of dense X.
 *
 * Creation mirrors h5py defaults so Python sees exactly what it would have
 * written itself: little-endian standard types, the h5py bool enum, vlen
 * UTF-8 strings, no timestamps, chunking only when asked for (or implied by
 * compression) with h5py's chunk-size heuristic.
 */
#include "common.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RANK 32

static const char *filter_name(H5Z_filter_t id, const char *h5name) {
  switch (id) {
    case H5Z_FILTER_DEFLATE: return "gzip"; /* h5py's names */
    case H5Z_FILTER_SHUFFLE: return "shuffle";
    case H5Z_FILTER_FLETCHER32: return "fletcher32";
    case H5Z_FILTER_SZIP: return "szip";
    case H5Z_FILTER_NBIT: return "nbit";
    case H5Z_FILTER_SCALEOFFSET: return "scaleoffset";
    case 32000: return "lzf";
    default: return h5name;
  }
}

static napi_value dims_to_js(napi_env env, const hsize_t *dims, int rank) {
  napi_value arr, v;
  NAPI_CHECK(env, napi_create_array_with_length(env, (size_t)rank, &arr));
  for (int i = 0; i < rank; i++) {
    NAPI_CHECK(env, napi_create_double(env, (double)dims[i], &v));
    NAPI_CHECK(env, napi_set_element(env, arr, (uint32_t)i, v));
  }
  return arr;
}

static bool set_prop(napi_env env, napi_value obj, const char *key, napi_value v) {
  if (!v) return false;
  if (napi_set_named_property(env, obj, key, v) != napi_ok) {
    napi_throw_last_error(env);
    return false;
  }
  return true;
}

static napi_value make_str(napi_env env, const char *s) {
  return napi_make_string(env, s, strlen(s));
}

/* Open a dataset and return its type/space/rank/dims; throws on failure. */
static bool open_dataset(napi_env env, hid_t fid, const char *path,
                         const char *op, hid_t *did, hid_t *ftype,
                         hid_t *fspace, int *rank, hsize_t *dims, DType *dt) {
  *did = H5Dopen2(fid, path, H5P_DEFAULT);
  if (*did < 0) { h5err_throw(env, op, path); return false; }
  *ftype = H5Dget_type(*did);
  *fspace = H5Dget_space(*did);
  if (*ftype < 0 || *fspace < 0) { h5err_throw(env, op, path); return false; }
  *rank = H5Sget_simple_extent_ndims(*fspace);
  if (*rank < 0 || *rank > MAX_RANK) {
    h5err_throw_msg(env, op, path, "unsupported dataspace rank");
    return false;
  }
  H5Sget_simple_extent_dims(*fspace, dims, NULL);
  *dt = dtype_from_h5(*ftype);
  if (*dt == DT_INVALID) {
    h5err_throw_msg(env, op, path, "unsupported datatype (not bool/int/uint/float/string)");
    return false;
  }
  return true;
}

#define CLOSE_IF(id, fn) do { if ((id) >= 0) fn(id); } while (0)

napi_value dataset_info(napi_env env, napi_callback_info info) {
  napi_value argv[1], out = NULL, obj, chunks, filters;
  H5FileState *st = napi_get_file(env, info, 1, argv, "datasetInfo");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  hid_t did = -1, ftype = -1, fspace = -1, dcpl = -1;
  hsize_t dims[MAX_RANK], cdims[MAX_RANK];
  int rank = 0;
  DType dt;
  if (!open_dataset(env, st->fid, path, "datasetInfo", &did, &ftype, &fspace,
                    &rank, dims, &dt))
    goto cleanup;
  dcpl = H5Dget_create_plist(did);
  if (dcpl < 0) { h5err_throw(env, "datasetInfo", path); goto cleanup; }

  if (H5Pget_layout(dcpl) == H5D_CHUNKED) {
    int crank = H5Pget_chunk(dcpl, MAX_RANK, cdims);
    if (crank < 0) { h5err_throw(env, "datasetInfo", path); goto cleanup; }
    if (!(chunks = dims_to_js(env, cdims, crank))) goto cleanup;
  } else {
    NAPI_CHECK_GOTO(env, napi_get_null(env, &chunks), cleanup);
  }

  int nf = H5Pget_nfilters(dcpl);
  NAPI_CHECK_GOTO(env, napi_create_array_with_length(env, nf > 0 ? (size_t)nf : 0, &filters), cleanup);
  for (int i = 0; i < nf; i++) {
    unsigned flags, config;
    size_t ncd = 0;
    char name[64] = "";
    H5Z_filter_t id = H5Pget_filter2(dcpl, (unsigned)i, &flags, &ncd, NULL,
                                     sizeof name, name, &config);
    if (id < 0) { h5err_throw(env, "datasetInfo", path); goto cleanup; }
    char fallback[32];
    if (!name[0]) { snprintf(fallback, sizeof fallback, "filter-%d", (int)id); }
    napi_value s = make_str(env, filter_name(id, name[0] ? name : fallback));
    if (!s) goto cleanup;
    NAPI_CHECK_GOTO(env, napi_set_element(env, filters, (uint32_t)i, s), cleanup);
  }

  NAPI_CHECK_GOTO(env, napi_create_object(env, &obj), cleanup);
  if (set_prop(env, obj, "dtype", make_str(env, dtype_name(dt))) &&
      set_prop(env, obj, "shape", dims_to_js(env, dims, rank)) &&
      set_prop(env, obj, "chunks", chunks) &&
      set_prop(env, obj, "filters", filters))
    out = obj;

cleanup:
  CLOSE_IF(dcpl, H5Pclose);
  CLOSE_IF(fspace, H5Sclose);
  CLOSE_IF(ftype, H5Tclose);
  CLOSE_IF(did, H5Dclose);
  free(path);
  return out;
}

/* Variable-length strings read by H5Dread land in this arena, not in one
 * malloc each: a batch of names is thousands of small strings, and freeing
 * them one by one (H5Dvlen_reclaim) cost as much as allocating them. */
#define ARENA_BLOCK ((size_t)1 << 20)

typedef struct ArenaBlock {
  struct ArenaBlock *next;
  size_t used, cap;
  char data[];
} ArenaBlock;

typedef struct { ArenaBlock *head; } Arena;

static void *arena_alloc(size_t size, void *info) {
  Arena *a = (Arena *)info;
  size = (size + 7) & ~(size_t)7;
  if (!a->head || a->head->cap - a->head->used < size) {
    size_t cap = size > ARENA_BLOCK ? size : ARENA_BLOCK;
    ArenaBlock *b = (ArenaBlock *)malloc(sizeof *b + cap);
    if (!b) return NULL;
    b->next = a->head;
    b->used = 0;
    b->cap = cap;
    a->head = b;
  }
  void *p = a->head->data + a->head->used;
  a->head->used += size;
  return p;
}

/* Strings are not freed one by one: the whole arena goes at once. */
static void arena_free_one(void *mem, void *info) { (void)mem; (void)info; }

static void arena_release(Arena *a) {
  while (a->head) {
    ArenaBlock *next = a->head->next;
    free(a->head);
    a->head = next;
  }
}

/* readDataset(path, start, count[, utf8]): count < 0 means "to the end";
 * with `utf8`, strings come as h5_strings_utf8_to_js gives them. */
napi_value dataset_read(napi_env env, napi_callback_info info) {
  napi_value argv[4], out = NULL, obj, data = NULL, ab;
  H5FileState *st = napi_get_file(env, info, 4, argv, "readDataset");
  if (!st) return NULL;
  char *path = napi_dup_string(env, argv[0], "path");
  if (!path) return NULL;
  hid_t did = -1, ftype = -1, fspace = -1, mspace = -1, mtype = -1;
  hsize_t dims[MAX_RANK], offs[MAX_RANK] = {0};
  int rank = 0;
  DType dt;
  void *strbuf = NULL;
  Arena arena = {NULL};
  hid_t dxpl = -1;
  size_t n = 1;
  double start_d = 0, count_d = -1;
  bool utf8 = false;
  napi_valuetype utf8_type;
  if (napi_get_value_double(env, argv[1], &start_d) != napi_ok ||
      napi_get_value_double(env, argv[2], &count_d) != napi_ok ||
      napi_typeof(env, argv[3], &utf8_type) != napi_ok ||
      (utf8_type != napi_undefined && napi_get_value_bool(env, argv[3], &utf8) != napi_ok)) {
    napi_throw_type_error(env, NULL, "start and count must be numbers, utf8 a boolean");
    goto cleanup;
  }
  if (!open_dataset(env, st->fid, path, "readDataset", &did, &ftype, &fspace,
                    &rank, dims, &dt))
    goto cleanup;

  if (rank > 0) {
    /* Validate the first-axis range in doubles before narrowing. */
    double len0 = (double)dims[0];
    if (!(start_d >= 0) || start_d != floor(start_d) || start_d > len0 ||
        (count_d >= 0 && (count_d != floor(count_d) || start_d + count_d > len0))) {
      h5err_throw_msg(env, "readDataset", path, "start/count out of range");
      goto cleanup;
    }
    offs[0] = (hsize_t)start_d;
    dims[0] = count_d < 0 ? dims[0] - offs[0] : (hsize_t)count_d;
    if (H5Sselect_hyperslab(fspace, H5S_SELECT_SET, offs, NULL, dims, NULL) < 0) {
      h5err_throw(env, "readDataset", path);
      goto cleanup;
    }
  }
  for (int i = 0; i < rank; i++) n *= (size_t)dims[i];
  mspace = rank > 0 ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);

  H5T_class_t tclass = H5Tget_class(ftype);
  if (dt == DT_STRING) {
    mtype = h5type_mem_string_for(ftype);
    dxpl = H5Pcreate(H5P_DATASET_XFER);
    if (dxpl < 0 || H5Pset_vlen_mem_manager(dxpl, arena_alloc, &arena, arena_free_one, &arena) < 0) {
      h5err_throw(env, "readDataset", path);
      goto cleanup;
    }
  } else if (tclass == H5T_ENUM && dt != DT_BOOL) {
    /* HDF5 cannot convert enum->integer; read the raw native enum bytes. */
    mtype = H5Tget_native_type(ftype, H5T_DIR_ASCEND);
  } else {
    mtype = h5type_mem_for(dt); /* bool: enum->enum conversion by name */
  }
  if (mspace < 0 || mtype < 0) { h5err_throw(env, "readDataset", path); goto cleanup; }

  size_t esize = H5Tget_size(mtype);
  if (dt == DT_STRING) {
    strbuf = calloc(n ? n : 1, esize);
    if (!strbuf) { h5err_throw_msg(env, "readDataset", path, "out of memory"); goto cleanup; }
    if (n > 0 && H5Dread(did, mtype, mspace, fspace, dxpl, strbuf) < 0) {
      h5err_throw(env, "readDataset", path);
      goto cleanup;
    }
    data = utf8 ? h5_strings_utf8_to_js(env, ftype, strbuf, n) : h5_strings_joined_to_js(env, ftype, strbuf, n);
    if (!data) goto cleanup;
  } else {
    void *raw = NULL;
    NAPI_CHECK_GOTO(env, napi_create_arraybuffer(env, n * esize, &raw, &ab), cleanup);
    if (n > 0 && H5Dread(did, mtype, mspace, fspace, H5P_DEFAULT, raw) < 0) {
      h5err_throw(env, "readDataset", path);
      goto cleanup;
    }
    NAPI_CHECK_GOTO(env, napi_create_typedarray(env, dtype_typedarray(dt), n, ab, 0, &data), cleanup);
  }

  NAPI_CHECK_GOTO(env, napi_create_object(env, &obj), cleanup);
  if (set_prop(env, obj, "dtype", make_str(env, dtype_name(dt))) &&
      set_prop(env, obj, "shape", dims_to_js(env, dims, rank)) &&
      set_prop(env, obj, "data", data))
    out = obj;

cleanup:
  arena_release(&arena);
  free(strbuf);
  CLOSE_IF(dxpl, H5Pclose);
  CLOSE_IF(mtype, H5Tclose);
  CLOSE_IF(mspace, H5Sclose);
  CLOSE_IF(fspace, H5Sclose);
  CLOSE_IF(ftype, H5Tclose);
  CLOSE_IF(did, H5Dclose);
  free(path);
  return out;
}

/* h5py's guess_chunk() for the 1-D case: target 16 KiB scaled with the
 * dataset size (8 KiB .. 1 MiB), halving the chunk until it fits. */
static hsize_t guess_chunk(hsize_t n, size_t esize) {
  double total = (double)n * (double)esize;
  double target = 16.0 * 1024 * pow(2.0, log10(total / (1024.0 * 1024)));
  if (target > 1024.0 * 1024) target = 1024.0 * 1024;
  if (target < 8.0 * 1024) target = 8.0 * 1024;
  hsize_t c = n;
  while (c > 1 && (double)c * esize > target) c = (c + 1) / 2;
  return c;
}

/* The link creation property list of every createDataset (missing parent
 * groups are created), made once: HDF5 copies what it needs at create. */
static hid_t shared_lcpl(void) {
  static hid_t lcpl = -1;
  if (lcpl < 0) lcpl = h5_make_lcpl();
  return lcpl;
}

/* The dataset creation property list for chunks of `chunk` elements (0:
 * contiguous) deflated at `gzip` (< 0: no filter), without timestamps (the
 * reproducible bytes h5py writes). The last one made is kept for the next
 * dataset of the same layout (a column after another of the same length);
 * HDF5 copies what it needs at create, so it is never closed while kept. */
static hid_t shared_dcpl(napi_env env, const char *path, hsize_t chunk, int gzip) {
  static hid_t kept = -1;
  static hsize_t kept_chunk = 0;
  static int kept_gzip = -1;
  if (kept >= 0 && kept_chunk == chunk && kept_gzip == gzip) return kept;
  hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
  if (dcpl < 0 || H5Pset_obj_track_times(dcpl, 0) < 0 ||
      (chunk > 0 && H5Pset_chunk(dcpl, 1, &chunk) < 0) ||
      (gzip >= 0 && H5Pset_deflate(dcpl, (unsigned)gzip) < 0)) {
    h5err_throw(env, "createDataset", path);
    if (dcpl >= 0) H5Pclose(dcpl);
    return -1;
  }
  if (kept >= 0) H5Pclose(kept);
  kept = dcpl;
  kept_chunk = chunk;
  kept_gzip = gzip;
  return dcpl;
}

/* Pre-deflated chunks need a 1-D, non-empty, chunked, deflate dataset. */
static bool scalar_or_unchunked(napi_env env, napi_value scalar_arg, int32_t gzip, int32_t chunk_req, const char *path) {
  bool scalar = false;
  if (napi_get_value_bool(env, scalar_arg, &scalar) != napi_ok || scalar || gzip < 0 || chunk_req <= 0) {
    h5err_throw_msg(env, "createDataset", path, "deflated chunks need a 1-D dataset with gzip and a chunk length");
    return true;
  }
  return false;
}

/* The chunks of `deflated` (an array of Uint8Array), already deflated by the
 * caller, written as they are: HDF5 does not compress them again, and the
 * dataset records the deflate filter so every reader inflates them. */
static bool write_deflated_chunks(napi_env env, hid_t did, napi_value deflated, size_t n, hsize_t chunk, const char *path) {
  uint32_t count = 0;
  if (napi_get_array_length(env, deflated, &count) != napi_ok || (size_t)count != (n + chunk - 1) / chunk) {
    h5err_throw_msg(env, "createDataset", path, "deflated chunks must be an array with one entry per chunk");
    return false;
  }
  for (uint32_t i = 0; i < count; i++) {
    napi_value item;
    void *bytes = NULL;
    size_t len = 0;
    if (napi_get_element(env, deflated, i, &item) != napi_ok ||
        !napi_get_typed(env, item, napi_uint8_array, &bytes, &len, "deflated chunk"))
      return false;
    hsize_t offset[1] = {(hsize_t)i * chunk};
    if (H5Dwrite_chunk(did, H5P_DEFAULT, 0, offset, len, bytes) < 0) {
      h5err_throw(env, "createDataset", path);
      return false;
    }
  }
  return true;
}

/* createDataset(path, dtype, data, gzip, chunks, scalar[, deflated[, attrs]]): 1-D, or a scalar
 * dataspace when `scalar` is true and data holds exactly one value (anndata's
 * `string` and `numeric-scalar` encodings).
 * gzip < 0 disables compression; chunks <= 0 means "auto when needed".
 * `deflated` (with gzip >= 0 and chunks > 0): the chunks already deflated
 * (zlib streams of the file type's bytes); `data` then gives only the length,
 * as an array of it or as the number itself.
 * `attrs`: [name, dtype, data, scalar] entries written on the new dataset in
 * the same call, through its open handle (no lookup of it by path). */
napi_value dataset_create(napi_env env, napi_callback_info info) {
  napi_value argv[8], out = NULL;
  H5FileState *st = napi_get_file(env, info, 8, argv, "createDataset");
  if (!st) return NULL;
  char *path = NULL, *dtname = NULL, **strs = NULL;
  uint32_t nstr = 0;
  int8_t *bools = NULL;
  hid_t space = -1, ftype = -1, mtype = -1, dcpl = -1, lcpl = -1, did = -1;
  bool created = false;
  if (!(path = napi_dup_string(env, argv[0], "path")) ||
      !(dtname = napi_dup_string(env, argv[1], "dtype")))
    goto cleanup;
  int32_t gzip = -1, chunk_req = 0;
  if (napi_get_value_int32(env, argv[3], &gzip) != napi_ok ||
      napi_get_value_int32(env, argv[4], &chunk_req) != napi_ok || gzip > 9) {
    napi_throw_type_error(env, NULL, "gzip must be 0..9 (or -1) and chunks a number");
    goto cleanup;
  }
  DType dt = dtype_from_name(dtname);
  if (dt == DT_INVALID) { h5err_throw_msg(env, "createDataset", path, "unknown dtype"); goto cleanup; }

  napi_valuetype deflated_type;
  if (napi_typeof(env, argv[6], &deflated_type) != napi_ok) goto cleanup;
  bool predeflated = deflated_type != napi_undefined;
  if (predeflated && dt == DT_STRING) { h5err_throw_msg(env, "createDataset", path, "strings cannot be written as deflated chunks"); goto cleanup; }
  if (predeflated && scalar_or_unchunked(env, argv[5], gzip, chunk_req, path)) goto cleanup;

  napi_valuetype data_type, attrs_type;
  if (napi_typeof(env, argv[2], &data_type) != napi_ok || napi_typeof(env, argv[7], &attrs_type) != napi_ok) goto cleanup;
  const void *data = NULL;
  size_t n = 0;
  if (dt == DT_STRING) {
    if (!(strs = js_to_cstrings(env, argv[2], &nstr))) goto cleanup;
    data = strs;
    n = nstr;
  } else if (predeflated && data_type == napi_number) {
    double length = -1;
    if (napi_get_value_double(env, argv[2], &length) != napi_ok || !(length >= 0) || length != floor(length) || length > 9007199254740991.0) {
      h5err_throw_msg(env, "createDataset", path, "the length of deflated data must be a non-negative integer");
      goto cleanup;
    }
    n = (size_t)length;
  } else {
    void *p = NULL;
    if (!napi_get_typed(env, argv[2], dtype_typedarray(dt), &p, &n, "dataset data"))
      goto cleanup;
    data = p;
    if (dt == DT_BOOL && !predeflated) {
      /* Any non-zero byte means TRUE; never store out-of-enum values. */
      bools = (int8_t *)malloc(n ? n : 1);
      if (!bools) { h5err_throw_msg(env, "createDataset", path, "out of memory"); goto cleanup; }
      for (size_t i = 0; i < n; i++) bools[i] = ((const uint8_t *)p)[i] != 0;
      data = bools;
    }
  }

  bool scalar = false;
  if (napi_get_value_bool(env, argv[5], &scalar) != napi_ok) {
    napi_throw_type_error(env, NULL, "scalar must be a boolean");
    goto cleanup;
  }
  if (scalar && n != 1) { h5err_throw_msg(env, "createDataset", path, "a scalar dataset needs exactly one value"); goto cleanup; }
  hsize_t dims[1] = {(hsize_t)n};
  space = scalar ? H5Screate(H5S_SCALAR) : H5Screate_simple(1, dims, NULL);
  ftype = h5type_file_for(dt);
  mtype = h5type_mem_for(dt);
  lcpl = shared_lcpl();
  if (space < 0 || ftype < 0 || mtype < 0 || lcpl < 0) {
    h5err_throw(env, "createDataset", path);
    goto cleanup;
  }
  /* A zero-length dataset cannot have a chunk >= 1 under a fixed max size,
   * so empty datasets are always stored contiguously. */
  hsize_t chunk = 0;
  if (n > 0 && !scalar && (gzip >= 0 || chunk_req > 0)) {
    chunk = chunk_req > 0 ? (hsize_t)chunk_req : guess_chunk(n, dtype_mem_size(dt));
    if (chunk > n) chunk = n;
  }
  if ((dcpl = shared_dcpl(env, path, chunk, chunk ? gzip : -1)) < 0) goto cleanup;
  did = H5Dcreate2(st->fid, path, ftype, space, lcpl, dcpl, H5P_DEFAULT);
  if (did < 0) { h5err_throw(env, "createDataset", path); goto cleanup; }
  created = true;
  if (predeflated) {
    if (n == 0) { h5err_throw_msg(env, "createDataset", path, "an empty dataset has no chunks to write"); goto cleanup; }
    hsize_t c = (hsize_t)chunk_req < n ? (hsize_t)chunk_req : n;
    if (!write_deflated_chunks(env, did, argv[6], n, c, path)) goto cleanup;
  } else if (n > 0 && H5Dwrite(did, mtype, H5S_ALL, H5S_ALL, H5P_DEFAULT, data) < 0) {
    h5err_throw(env, "createDataset", path);
    goto cleanup;
  }
  if (attrs_type != napi_undefined && !h5_write_attr_list(env, did, path, argv[7])) goto cleanup;
  created = false; /* success: keep it */
  NAPI_CHECK_GOTO(env, napi_get_undefined(env, &out), cleanup);

cleanup:
  CLOSE_IF(did, H5Dclose);
  /* Do not leave a half-written dataset behind after a failed write. */
  if (created) { H5Ldelete(st->fid, path, H5P_DEFAULT); H5Eclear2(H5E_DEFAULT); }
  CLOSE_IF(mtype, H5Tclose);
  CLOSE_IF(ftype, H5Tclose);
  CLOSE_IF(space, H5Sclose);
  free_cstrings(strs, nstr);
  free(bools);
  free(path);
  free(dtname);
  return out;
}
