# Extra pkg-config modules, one list per subsystem (append; keep one per line for easy merges).
# audio stage
list(APPEND CHORUS_PKGS libopusenc opus ogg flac libavcodec libavutil ao)
list(APPEND CHORUS_EXTRA_LIBS mp3lame) # libmp3lame ships no .pc file in Debian 12
# text stage
# remote backends
# kokoro
# BLIS (no .pc in Debian 12): detects AVX2/AVX-512 cores at run time, unlike Debian's OpenBLAS 0.3.21.
list(APPEND CHORUS_EXTRA_LIBS blis)
# audio cache (SHA-256 keys and checksums)
list(APPEND CHORUS_PKGS nettle)
