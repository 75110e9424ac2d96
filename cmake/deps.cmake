# Extra pkg-config modules, one list per subsystem (append; keep one per line for easy merges).
# audio stage
# text stage
# remote backends
# kokoro
# audio cache (SHA-256 keys and checksums)
list(APPEND CHORUS_PKGS nettle)
