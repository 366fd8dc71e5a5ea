{
  "variables": {
    "hdf5_cflags%": "<!(pkg-config --cflags-only-I hdf5-serial 2>/dev/null || pkg-config --cflags-only-I hdf5 2>/dev/null || echo -I/usr/include/hdf5/serial)",
    "hdf5_libs%": "<!(pkg-config --libs hdf5-serial 2>/dev/null || pkg-config --libs hdf5 2>/dev/null || echo -L/usr/lib/x86_64-linux-gnu/hdf5/serial -lhdf5)"
  },
  "targets": [
    {
      "target_name": "cellucid_hdf5",
      "sources": [
        "native/hdf5/addon.c",
        "native/hdf5/errors.c",
        "native/hdf5/napi_util.c",
        "native/hdf5/types.c",
        "native/hdf5/file.c",
        "native/hdf5/attrs.c",
        "native/hdf5/datasets.c",
        "native/hdf5/txn.c",
        "native/hdf5/txn_io.c",
        "native/hdf5/overlay.c",
        "native/hdf5/journal.c",
        "native/hdf5/vfd.c"
      ],
      "cflags": ["<@(hdf5_cflags)"],
      "cflags_c": ["-std=c11"],
      "defines": ["_GNU_SOURCE", "H5_USE_110_API"],
      "libraries": ["<@(hdf5_libs)", "-lm"],
      "xcode_settings": {
        "OTHER_CFLAGS": ["<@(hdf5_cflags)"]
      }
    }
  ]
}
