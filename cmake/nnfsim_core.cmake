# nnfsim_core.cmake - nnfsim_core_variant(): one configuration of nnf_core,
# Verilated, behind the C API of sim/core/nnfsim_core.h. Included by
# sim/core/CMakeLists.txt (the project's simulators) and sim/module/ (a
# standalone build of one configuration file's simulator module, which
# scripts/nnfconfig.py build-sim runs). Needs NNF_RTL_CORE, NNF_RTL_HEADERS,
# NNF_RTL_INCLUDE_DIR and NNFSIM_CORE_DIR (sim/core) set.
#
# nnf_config_core_args(<var> <config.json>): "-GNAME=VALUE" for every nnf_core
# parameter of a configuration file (configs/, docs/codesign.md), CONFIG_ID
# included, from scripts/nnfconfig.py; a bad file stops the configure step
# with nnfconfig's message.
find_package(Python3 COMPONENTS Interpreter REQUIRED)
set(NNF_CONFIG_TOOL ${CMAKE_CURRENT_LIST_DIR}/../scripts/nnfconfig.py)
function(nnf_config_core_args var file)
  execute_process(COMMAND ${Python3_EXECUTABLE} ${NNF_CONFIG_TOOL} core-params ${file}
                  OUTPUT_VARIABLE json ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(rc)
    message(FATAL_ERROR "configuration ${file}: ${err}")
  endif()
  string(STRIP "${json}" json)
  string(JSON n LENGTH "${json}")
  math(EXPR last "${n} - 1")
  set(args "")
  foreach(i RANGE ${last})
    string(JSON k MEMBER "${json}" ${i})
    string(JSON v GET "${json}" ${k})
    list(APPEND args "-G${k}=${v}")
  endforeach()
  set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${file} ${NNF_CONFIG_TOOL})
  set(${var} ${args} PARENT_SCOPE)
endfunction()

# As in sim/rtl: an RTL edit reconfigures, and Verilator reruns at configure
# time when the sources changed, so verilate() never lists stale files.
set_property(DIRECTORY APPEND PROPERTY CMAKE_CONFIGURE_DEPENDS ${NNF_RTL_CORE} ${NNF_RTL_HEADERS})
set(_core_hash "")
foreach(f ${NNF_RTL_CORE} ${NNF_RTL_HEADERS})
  file(SHA256 ${f} h)
  string(APPEND _core_hash "${h}")
endforeach()
string(SHA256 _core_hash "${_core_hash}")
set(NNFSIM_CORE_SOURCES_HASH "${_core_hash}" CACHE INTERNAL "")

# nnfsim_core_variant(<target> [<verilator argument>...])
#
# One configuration of nnf_core, Verilated, as a static library <target>
# with exactly the C API of nnfsim_core.h (nnfsim_core_create, _run, _idle,
# ...; FST tracing included). The arguments go to Verilator after the common
# ones, so they choose the configuration: -GROWS=4 -GCOLS=4 -GSTATE_WORDS=0
# ... (nnf_core's parameters; those not given keep nnf_core's defaults).
# Every variant defines the same function names: link one variant per
# executable (and not nnfdrv, whose `sim` backend brings nnfsim_core; talk
# through nnfproto (proto/) and compare with nnfm_device). A test learns the
# configuration it runs from the device's INFO answer, or from the same
# parameter list it was built with (nnf_board_definitions). May be called
# from any directory.
#
#   nnfsim_core_variant(nnfsim_core_small -GROWS=2 -GCOLS=2 -GACT_WORDS=256)
#   target_link_libraries(my_test PRIVATE nnfsim_core_small)
function(nnfsim_core_variant target)
  # here, so that it works from any directory (imported targets and the
  # variables verilate() reads are directory-scoped)
  find_package(verilator REQUIRED HINTS $ENV{VERILATOR_ROOT} /usr/share/verilator)
  find_package(Threads REQUIRED)
  add_library(${target} STATIC ${NNFSIM_CORE_DIR}/nnfsim_core_shim.cpp)
  target_include_directories(${target} PUBLIC ${NNFSIM_CORE_DIR})
  set(vdir ${CMAKE_CURRENT_BINARY_DIR}/CMakeFiles/${target}.dir/Vnnf_core.dir)
  set(stamp ${vdir}/nnfsim_core_sources.sha256)
  set(old "")
  if(EXISTS ${stamp})
    file(READ ${stamp} old)
  endif()
  if(NOT old STREQUAL NNFSIM_CORE_SOURCES_HASH)
    file(REMOVE ${vdir}/verilator_args.txt) # makes verilate() run Verilator now
  endif()
  verilate(${target}
    SOURCES ${NNF_RTL_CORE}
    TOP_MODULE nnf_core
    PREFIX Vnnf_core
    DIRECTORY ${vdir}
    TRACE_FST
    VERILATOR_ARGS -O3 --x-assign fast --x-initial fast -Wno-fatal -I${NNF_RTL_INCLUDE_DIR} ${ARGN})
  file(WRITE ${stamp} "${NNFSIM_CORE_SOURCES_HASH}")
  target_link_libraries(${target} PUBLIC Threads::Threads)
endfunction()

# nnfsim_core_module(<target> <core library> <name> <clock_hz>): the core
# library as a loadable module (the table of nnfsim_module.h, exported as
# nnfsim_module_api), which the driver's sim:board=NAME and sim:module=PATH
# dlopen: -Bsymbolic and hidden symbols keep its nnfsim_core_* and Verilator
# runtime apart from the executable's own default core.
function(nnfsim_core_module target core name hz)
  set_target_properties(${core} PROPERTIES POSITION_INDEPENDENT_CODE ON)
  add_library(${target} MODULE ${NNFSIM_CORE_DIR}/nnfsim_module.c)
  target_compile_definitions(${target} PRIVATE
    NNFSIM_MODULE_BOARD="${name}" NNFSIM_MODULE_CLOCK_HZ=${hz}u)
  target_link_libraries(${target} PRIVATE ${core})
  set_target_properties(${target} PROPERTIES C_VISIBILITY_PRESET hidden)
  target_link_options(${target} PRIVATE -Wl,-Bsymbolic -Wl,--exclude-libs,ALL)
endfunction()
