# Extra pkg-config modules, one list per subsystem (append; keep one per line for easy merges).
# audio stage
list(APPEND CHORUS_PKGS libopusenc opus ogg flac libavcodec libavutil ao)
list(APPEND CHORUS_EXTRA_LIBS mp3lame) # libmp3lame ships no .pc file in Debian 12
# text stage
# remote backends
# kokoro
# OpenBLAS is dlopen()ed at run time (src/nn/nn.c sets OPENBLAS_CORETYPE first): nothing to link
# but libdl, which glibc 2.34+ has in libc.
list(APPEND CHORUS_EXTRA_LIBS ${CMAKE_DL_LIBS})
# audio cache (SHA-256 keys and checksums)
list(APPEND CHORUS_PKGS nettle)
# chatterbox: the voice library reads reference clips (libsndfile); candidate validation
# transcribes with pocketsphinx (Debian's en-us model)
list(APPEND CHORUS_PKGS sndfile)
# (pocketsphinx.pc names /usr/include/sphinxbase, which Debian 12 does not ship: found by hand)
find_path(POCKETSPHINX_INCLUDE pocketsphinx.h PATH_SUFFIXES pocketsphinx REQUIRED)
include_directories(SYSTEM ${POCKETSPHINX_INCLUDE})
list(APPEND CHORUS_EXTRA_LIBS pocketsphinx sphinxbase)
# books (src/book): EPUB is a zip (libzip), its package files XML and its chapters XHTML
# (libxml2, whose HTML parser reads sloppy markup), M4B/MP3 assembly (libavformat)
list(APPEND CHORUS_PKGS libzip libxml-2.0 libavformat)
