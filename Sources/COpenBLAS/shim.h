// OpenBLAS's CBLAS interface; pkg-config puts the pthread variant's include folder first.
#include <cblas.h>
