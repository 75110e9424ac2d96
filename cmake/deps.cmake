# Extra pkg-config modules, one list per subsystem (append; keep one per line for easy merges).
# audio stage
# text stage
# remote backends
# kokoro
# BLIS (no .pc in Debian 12): detects AVX2/AVX-512 cores at run time, unlike Debian's OpenBLAS 0.3.21.
list(APPEND CHORUS_EXTRA_LIBS blis)
