/* The journaling HDF5 file driver (vfd.c) and its transaction layer (txn.c). */
#ifndef CELLUCID_HDF5_VFD_H
#define CELLUCID_HDF5_VFD_H

#include <hdf5.h>

#include "txn.h"

/* Register the driver once, at module load. */
int vfd_init(void);
/* Make `fapl` open files through the driver, reporting into `s`. */
int vfd_set(hid_t fapl, Session *s);

#endif
