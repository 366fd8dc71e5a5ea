/*
 * Module entry point: registers the NativeFile class and library metadata.
 * The JS-facing API (names, defaults, value normalisation) is defined in
 * src/anndata/h5/binding.ts; this file only wires C functions to methods.
 */
#include "common.h"
#include "vfd.h"

#include <stdio.h>

#define METHOD(name, fn) {name, NULL, fn, NULL, NULL, NULL, napi_default, NULL}

static napi_value init(napi_env env, napi_value exports) {
  /* No cleanup at exit: closing files there would commit write sessions the
   * program never closed (and a failed close used to crash it). An unclosed
   * write session is rolled back at the next open instead. */
  H5dont_atexit();
  if (H5open() < 0 || vfd_init() < 0) {
    napi_throw_error(env, NULL, "HDF5 library failed to initialise");
    return NULL;
  }
  h5err_init();

  napi_property_descriptor methods[] = {
      METHOD("close", file_close),
      METHOD("abort", file_abort),
      METHOD("ioFailure", file_io_failure),
      METHOD("recovered", file_recovered),
      METHOD("isOpen", file_is_open),
      METHOD("exists", file_exists),
      METHOD("kind", file_kind),
      METHOD("list", file_list),
      METHOD("createGroup", file_create_group),
      METHOD("deleteLink", file_delete_link),
      METHOD("moveLink", file_move_link),
      METHOD("readAttrs", attrs_read),
      METHOD("writeAttr", attrs_write),
      METHOD("deleteAttr", attrs_delete),
      METHOD("datasetInfo", dataset_info),
      METHOD("readDataset", dataset_read),
      METHOD("createDataset", dataset_create),
  };
  napi_value cls, version;
  NAPI_CHECK(env, napi_define_class(env, "NativeFile", NAPI_AUTO_LENGTH, file_ctor,
                                    NULL, sizeof methods / sizeof methods[0],
                                    methods, &cls));
  NAPI_CHECK(env, napi_set_named_property(env, exports, "NativeFile", cls));
  napi_value recover;
  NAPI_CHECK(env, napi_create_function(env, "recover", NAPI_AUTO_LENGTH, file_recover, NULL, &recover));
  NAPI_CHECK(env, napi_set_named_property(env, exports, "recover", recover));

  unsigned maj = 0, min = 0, rel = 0;
  H5get_libversion(&maj, &min, &rel);
  char buf[32];
  snprintf(buf, sizeof buf, "%u.%u.%u", maj, min, rel);
  NAPI_CHECK(env, napi_create_string_utf8(env, buf, NAPI_AUTO_LENGTH, &version));
  NAPI_CHECK(env, napi_set_named_property(env, exports, "hdf5Version", version));
  return exports;
}

NAPI_MODULE_INIT() { return init(env, exports); }
