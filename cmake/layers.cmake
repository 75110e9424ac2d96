# The library's layers, checked at configure time: a folder may include only the layers below
# it, so a dependency cycle is a build error, not a review comment (docs/architecture.md).
#   src/net    the HTTP layer: nothing of chorus but the public header and the audio stage's
#              header (its WAV reader decodes with the audio stage's decoder)
#   src/core   the engine: never the cache, the remote glue, the CLI or the server
#              (filters and backends reach it through core/job_filter.h and core/backend.h)
# A file that breaks a rule stops the configure step with the file and the line.
function(chorus_check_layer folder)
  file(GLOB_RECURSE files CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/src/${folder}/*.[ch])
  foreach(f ${files})
    file(STRINGS ${f} lines REGEX "^[ \t]*#[ \t]*include[ \t]*\"")
    foreach(line ${lines})
      foreach(bad ${ARGN})
        if(line MATCHES "\"${bad}/")
          file(RELATIVE_PATH rel ${CMAKE_CURRENT_SOURCE_DIR} ${f})
          message(FATAL_ERROR "layering: ${rel} has '${line}', but src/${folder} must not "
                              "include src/${bad} (see cmake/layers.cmake)")
        endif()
      endforeach()
    endforeach()
  endforeach()
endfunction()

chorus_check_layer(net core cache remote backends text nn server cli redis)
# src/redis: the Redis client (connections, URL); used by the cache and the remote glue
chorus_check_layer(redis cache remote backends server cli)
chorus_check_layer(core cache remote server cli redis)
