# Resilience tests (docs/RELIABILITY.md): the fault matrix end to end against tvkit-sim's
# --fault modes, one ctest per fault (a cmocka filter selects the test), and the flat-memory
# check of a long accelerated stream. Expected bars come from the sim's generator
# (tvkit_sim_core), an independent path from the protocol.
add_executable(resilience_test_faults ${CMAKE_CURRENT_LIST_DIR}/resilience/test_faults.c
  ${CMAKE_CURRENT_LIST_DIR}/client/simproc.c)
target_link_libraries(resilience_test_faults PRIVATE tvkit_static tvkit_sim_core OpenSSL::SSL
  OpenSSL::Crypto ZLIB::ZLIB ${WSLAY_LIB} m ${CMOCKA_LIB})
target_include_directories(resilience_test_faults PRIVATE ${CMOCKA_INCLUDE}
  ${CMAKE_CURRENT_LIST_DIR}/client)
add_dependencies(resilience_test_faults tvkit-sim)
foreach(t close_mid_stream close_mid_history stall_with_heartbeats stall_without_heartbeats silence_timeout
    client_stops_echoing bad_framing oversize 429_retry_after tls_certificate_change
    protocol_error series_errors throttled backpressure backoff connect_nonblocking
    connect_nonblocking_loop)
  add_test(NAME resilience_${t}
    COMMAND resilience_test_faults $<TARGET_FILE:tvkit-sim> test_${t})
  set_tests_properties(resilience_${t} PROPERTIES TIMEOUT 300)
endforeach()

# Peak RSS (VmHWM) after an hour of market time within 10% of the RSS after its first minute.
# ASan's quarantine would hold every freed block (it grows by design): off for this one test.
add_test(NAME resilience_memory_flat
  COMMAND resilience_test_faults $<TARGET_FILE:tvkit-sim> test_memory_flat)
set_tests_properties(resilience_memory_flat PROPERTIES TIMEOUT 300
  ENVIRONMENT "ASAN_OPTIONS=detect_leaks=1:abort_on_error=1:quarantine_size_mb=0")

# The tvkit command: stream and quotes reconnect by default, --no-reconnect ends with status 3.
if(TARGET tvkit)
  add_test(NAME resilience_cli_stream COMMAND bash ${CMAKE_CURRENT_LIST_DIR}/resilience/cli_stream.sh
    $<TARGET_FILE:tvkit> $<TARGET_FILE:tvkit-sim>)
  set_tests_properties(resilience_cli_stream PROPERTIES TIMEOUT 300)

  # Ctrl-C while a reconnect attempt hangs in its upgrade (a socket that never answers): exit
  # 130 within 3 s, not after the connect timeout.
  add_test(NAME resilience_cli_interrupt
    COMMAND ${TVK_PYTHON3} ${CMAKE_CURRENT_LIST_DIR}/resilience/cli_interrupt.py
    $<TARGET_FILE:tvkit> $<TARGET_FILE:tvkit-sim>)
  set_tests_properties(resilience_cli_interrupt PROPERTIES TIMEOUT 300)
endif()
