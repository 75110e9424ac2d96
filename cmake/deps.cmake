# Extra pkg-config modules, one list per subsystem (append; keep one per line for easy merges).
# A part that can be built OFF (CHORUS_WITH_*, CMakeLists.txt) adds its dependencies only when
# ON, and otherwise adds its sources' patterns to CHORUS_EXCLUDE.
# audio stage
list(APPEND CHORUS_PKGS libopusenc opus ogg flac)
list(APPEND CHORUS_EXTRA_LIBS mp3lame) # libmp3lame ships no .pc file in Debian 12
if(CHORUS_WITH_AAC)
  list(APPEND CHORUS_PKGS libavcodec libavutil)
else()
  list(APPEND CHORUS_EXCLUDE "/src/audio/encoders/aac\\.c$" "/src/audio/decode_av\\.c$")
endif()
if(CHORUS_WITH_PLAYER)
  list(APPEND CHORUS_PKGS ao)
else()
  list(APPEND CHORUS_EXCLUDE "/src/audio/player\\.c$")
endif()
# text stage
# remote backends
# kokoro
# OpenBLAS is dlopen()ed at run time (src/nn/nn.c sets OPENBLAS_CORETYPE first): nothing to link
# but libdl, which glibc 2.34+ has in libc.
if(CHORUS_WITH_KOKORO)
  list(APPEND CHORUS_EXTRA_LIBS ${CMAKE_DL_LIBS})
else()
  list(APPEND CHORUS_EXCLUDE "/src/backends/kokoro/" "/src/nn/")
endif()
# audio cache (SHA-256 keys and checksums)
list(APPEND CHORUS_PKGS nettle)
# the voice library reads reference clips (libsndfile)
list(APPEND CHORUS_PKGS sndfile)
# chatterbox: candidate validation transcribes with pocketsphinx (Debian's en-us model)
# (pocketsphinx.pc names /usr/include/sphinxbase, which Debian 12 does not ship: found by hand)
if(CHORUS_WITH_CHATTERBOX)
  find_path(POCKETSPHINX_INCLUDE pocketsphinx.h PATH_SUFFIXES pocketsphinx REQUIRED)
  include_directories(SYSTEM ${POCKETSPHINX_INCLUDE})
  list(APPEND CHORUS_EXTRA_LIBS pocketsphinx sphinxbase)
else()
  list(APPEND CHORUS_EXCLUDE "/src/backends/chatterbox/")
endif()
# server (the CLI's `chorus serve`)
if(CHORUS_WITH_SERVER)
  list(APPEND CHORUS_CLI_PKGS libmicrohttpd)
  # WebSocket framing of the text-stream endpoint (wslay ships a CMake file, no .pc)
  if(CHORUS_WITH_WEBSOCKET)
    find_path(WSLAY_INCLUDE wslay/wslay.h REQUIRED)
    find_library(WSLAY_LIB wslay REQUIRED)
    include_directories(SYSTEM ${WSLAY_INCLUDE})
    list(APPEND CHORUS_CLI_EXTRA_LIBS ${WSLAY_LIB})
    list(APPEND CHORUS_CLI_PKGS nettle) # SHA-1 of the handshake
  endif()
  if(CHORUS_WITH_AVAHI)
    list(APPEND CHORUS_CLI_PKGS avahi-client)
  endif()
endif()
# books (src/book): EPUB is a zip (libzip), its package files XML and its chapters XHTML
# (libxml2, whose HTML parser reads sloppy markup), M4B/MP3 assembly (libavformat, and the
# libavcodec/libavutil it calls directly: so CHORUS_WITH_AAC=OFF drops AAC output but not them)
list(APPEND CHORUS_PKGS libzip libxml-2.0 libavformat libavcodec libavutil)
# redis (src/redis: the cache's Redis store and the account-wide limiter's semaphore)
if(CHORUS_WITH_REDIS)
  list(APPEND CHORUS_PKGS hiredis)
else()
  list(APPEND CHORUS_EXCLUDE "/src/redis/" "/src/cache/store_redis\\.c$")
endif()
