# tvkit-sim: the local TradingView-protocol server (wire + net server role only, never client/).
file(GLOB TVK_SIM_CORE_SRC CONFIGURE_DEPENDS ${CMAKE_CURRENT_LIST_DIR}/*.c)
list(REMOVE_ITEM TVK_SIM_CORE_SRC ${CMAKE_CURRENT_LIST_DIR}/main.c)
add_library(tvkit_sim_core STATIC ${TVK_SIM_CORE_SRC})
target_include_directories(tvkit_sim_core PUBLIC ${CMAKE_CURRENT_LIST_DIR})
target_link_libraries(tvkit_sim_core PUBLIC tvkit_net tvkit_wire m)

add_executable(tvkit-sim ${CMAKE_CURRENT_LIST_DIR}/main.c)
target_link_libraries(tvkit-sim PRIVATE tvkit_sim_core)
install(TARGETS tvkit-sim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
