# Fuzzing (issue 6). Every target in tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput.
#  - Always: fuzz_replay_<name> = the target + a small main() (tests/fuzz/standalone.c) built
#    with the normal compiler; ctest fuzz_regress_<name> replays tests/fuzz/regress/<name>/* and
#    the seed corpus that fuzz_seeds generates from ${TVK_CAPTURES} into the build directory.
#  - With -DTVK_FUZZ=ON and clang: fuzz_<name>, the libFuzzer binaries, with the library layers
#    instrumented for coverage (scripts/fuzz.sh configures such a build and runs them).
option(TVK_FUZZ "Build the libFuzzer targets (needs clang)" OFF)

set(TVK_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR}/fuzz)
set(TVK_FUZZ_SEEDS ${CMAKE_BINARY_DIR}/fuzz-seeds)
# name -> what it links: the wire targets need the wire archive only, the net ones the net
# archive and its private headers, cliparse src/client/validate.c and cli/parse.c.
set(TVK_FUZZ_WIRE reader json bars number)
set(TVK_FUZZ_NET upgrade inflate ws)
set(TVK_FUZZ_ALL reader json bars number upgrade inflate ws cliparse)

function(tvk_fuzz_link tgt name)
  target_include_directories(${tgt} PRIVATE ${TVK_FUZZ_DIR})
  if(name IN_LIST TVK_FUZZ_WIRE)
    target_link_libraries(${tgt} PRIVATE tvkit_wire)
  elseif(name IN_LIST TVK_FUZZ_NET)
    target_include_directories(${tgt} PRIVATE ${CMAKE_SOURCE_DIR}/src ${WSLAY_INCLUDE})
    target_link_libraries(${tgt} PRIVATE tvkit_net)
  else()
    # The validators are one pure file of src/client: compiled in, so that this target neither
    # waits for nor breaks with the rest of the client layer.
    target_sources(${tgt} PRIVATE ${CMAKE_SOURCE_DIR}/src/client/validate.c)
    target_include_directories(${tgt} PRIVATE ${CMAKE_SOURCE_DIR}/src)
    target_link_libraries(${tgt} PRIVATE tvkit_wire)
    # The CLI's own parsers (dates, counts, ...) are pure and live in cli/parse.c: compiled in
    # here so that the fuzz build instruments them too.
    if(EXISTS ${CMAKE_SOURCE_DIR}/cli/parse.c AND EXISTS ${CMAKE_SOURCE_DIR}/cli/parse.h)
      target_sources(${tgt} PRIVATE ${CMAKE_SOURCE_DIR}/cli/parse.c)
      target_include_directories(${tgt} PRIVATE ${CMAKE_SOURCE_DIR}/cli)
      target_compile_definitions(${tgt} PRIVATE TVK_FUZZ_CLI_PARSE)
    endif()
  endif()
endfunction()

add_test(NAME fuzz_seeds
  COMMAND ${TVK_PYTHON3} ${TVK_FUZZ_DIR}/seeds.py ${TVK_CAPTURES} ${TVK_FUZZ_SEEDS})
set_tests_properties(fuzz_seeds PROPERTIES FIXTURES_SETUP tvk_fuzz_seeds TIMEOUT 120)

foreach(name ${TVK_FUZZ_ALL})
  add_executable(fuzz_replay_${name} ${TVK_FUZZ_DIR}/standalone.c ${TVK_FUZZ_DIR}/fuzz_${name}.c)
  tvk_fuzz_link(fuzz_replay_${name} ${name})
  add_test(NAME fuzz_regress_${name}
    COMMAND fuzz_replay_${name} ${TVK_FUZZ_DIR}/regress/${name} ${TVK_FUZZ_SEEDS}/${name})
  set_tests_properties(fuzz_regress_${name} PROPERTIES FIXTURES_REQUIRED tvk_fuzz_seeds
    TIMEOUT 600)
endforeach()

if(TVK_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(WARNING "TVK_FUZZ=ON needs clang (configure with CC=clang-14): libFuzzer targets skipped")
  else()
    # Coverage feedback must reach into the library, not only the target file.
    foreach(layer tvk_base tvk_wire tvk_net tvk_client)
      target_compile_options(${layer} PRIVATE -fsanitize=fuzzer-no-link)
    endforeach()
    foreach(name ${TVK_FUZZ_ALL})
      add_executable(fuzz_${name} ${TVK_FUZZ_DIR}/fuzz_${name}.c)
      tvk_fuzz_link(fuzz_${name} ${name})
      target_compile_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
      target_link_options(fuzz_${name} PRIVATE -fsanitize=fuzzer)
    endforeach()
  endif()
endif()
