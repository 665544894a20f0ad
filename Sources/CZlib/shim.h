// zlib: gzopen/gzread read gzip files and, transparently, uncompressed ones.
#include <zlib.h>
