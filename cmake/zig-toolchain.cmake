# CMake toolchain: C and C++ compiled by Zig (clang + its own static libc++/libc++abi/libunwind and
# glibc stubs of a chosen version), for portable Linux builds of the engine (manylinux_2_28).
#   cmake -S . -B build-zig-aarch64 -G Ninja -DCMAKE_TOOLCHAIN_FILE=cmake/zig-toolchain.cmake \
#     -DALF_ZIG_TARGET=aarch64-linux-gnu.2.28 -DALF_DEPS_PREFIX=/path/to/deps-aarch64
# ALF_DEPS_PREFIX: the libraries of scripts/portable/build-deps.sh (the only place find_* looks).
# ALF_ZIG: the zig executable (default: the one of the ziglang package of ALF_PYTHON).
# For a target the host cannot run (aarch64 on x86-64), CMAKE_CROSSCOMPILING_EMULATOR is
# qemu-aarch64 -L <an aarch64 glibc> (ALF_QEMU_LD_PREFIX; build-deps.sh puts one in the prefix).

set(ALF_ZIG_TARGET "x86_64-linux-gnu.2.28" CACHE STRING "zig target triple, with the glibc version")
set(ALF_DEPS_PREFIX "" CACHE PATH "prefix of the static dependencies (scripts/portable/build-deps.sh)")
set(ALF_PYTHON "${CMAKE_CURRENT_LIST_DIR}/../.venv/bin/python" CACHE FILEPATH
    "Python with the ziglang package (to find zig)")
set(ALF_ZIG "" CACHE FILEPATH "zig executable (default: ziglang of ALF_PYTHON)")
set(ALF_ZIG_CPU "baseline" CACHE STRING "zig -mcpu (baseline: x86-64 / armv8-a)")
set(ALF_ZIG_CACHE_DIR "" CACHE PATH "zig's global and local cache (default: <deps prefix>/../zig-cache)")
set(ALF_ZIG_WRAPPER_DIR "" CACHE PATH "where the zig-cc/zig-c++/zig-ar/zig-ranlib wrappers go")
set(ALF_QEMU_LD_PREFIX "" CACHE PATH "aarch64 glibc root for qemu -L (crosscompiling emulator)")
# try_compile projects re-read this file: give them the same values.
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ALF_ZIG_TARGET ALF_DEPS_PREFIX ALF_ZIG
     ALF_ZIG_CPU ALF_ZIG_CACHE_DIR ALF_ZIG_WRAPPER_DIR ALF_QEMU_LD_PREFIX)

if(NOT ALF_DEPS_PREFIX)
  message(FATAL_ERROR "zig-toolchain: set ALF_DEPS_PREFIX (scripts/portable/build-deps.sh)")
endif()

string(REGEX MATCH "^[^-]+" _alf_arch "${ALF_ZIG_TARGET}")
set(CMAKE_SYSTEM_NAME Linux)
set(CMAKE_SYSTEM_PROCESSOR ${_alf_arch})

if(NOT ALF_ZIG)
  execute_process(COMMAND "${ALF_PYTHON}" -c
    "import ziglang, os; print(os.path.join(os.path.dirname(ziglang.__file__), 'zig'))"
    OUTPUT_VARIABLE _alf_zig OUTPUT_STRIP_TRAILING_WHITESPACE RESULT_VARIABLE _alf_rc)
  if(NOT _alf_rc EQUAL 0 OR NOT EXISTS "${_alf_zig}")
    message(FATAL_ERROR "zig not found: pip install ziglang into ${ALF_PYTHON} or set ALF_ZIG")
  endif()
  set(ALF_ZIG "${_alf_zig}" CACHE FILEPATH "zig executable (default: ziglang of ALF_PYTHON)" FORCE)
endif()
if(NOT ALF_ZIG_CACHE_DIR)
  get_filename_component(_alf_cache "${ALF_DEPS_PREFIX}/../zig-cache" ABSOLUTE)
  set(ALF_ZIG_CACHE_DIR "${_alf_cache}" CACHE PATH "zig's cache" FORCE)
endif()
if(NOT ALF_ZIG_WRAPPER_DIR)
  set(ALF_ZIG_WRAPPER_DIR "${CMAKE_BINARY_DIR}/zig-wrappers/${ALF_ZIG_TARGET}" CACHE PATH
      "where the zig wrappers go" FORCE)
endif()

# CMake wants one executable per tool: tiny wrappers with the target baked in.
set(_alf_env "export ZIG_GLOBAL_CACHE_DIR='${ALF_ZIG_CACHE_DIR}' ZIG_LOCAL_CACHE_DIR='${ALF_ZIG_CACHE_DIR}'")
set(_alf_tools
  "zig-cc|cc -target ${ALF_ZIG_TARGET} -mcpu=${ALF_ZIG_CPU}"
  "zig-c++|c++ -target ${ALF_ZIG_TARGET} -mcpu=${ALF_ZIG_CPU}"
  "zig-ar|ar" "zig-ranlib|ranlib")
foreach(_alf_tool IN LISTS _alf_tools)
  string(REPLACE "|" ";" _alf_tool "${_alf_tool}")
  list(GET _alf_tool 0 _alf_name)
  list(GET _alf_tool 1 _alf_args)
  set(_alf_text "#!/bin/sh\n${_alf_env}\nexec '${ALF_ZIG}' ${_alf_args} \"$@\"\n")
  set(_alf_file "${ALF_ZIG_WRAPPER_DIR}/${_alf_name}")
  if(EXISTS "${_alf_file}")
    file(READ "${_alf_file}" _alf_old)
  else()
    set(_alf_old "")
  endif()
  if(NOT _alf_old STREQUAL _alf_text)
    file(WRITE "${_alf_file}.tmp" "${_alf_text}")
    file(CHMOD "${_alf_file}.tmp" PERMISSIONS OWNER_READ OWNER_WRITE OWNER_EXECUTE
         GROUP_READ GROUP_EXECUTE WORLD_READ WORLD_EXECUTE)
    file(RENAME "${_alf_file}.tmp" "${_alf_file}")
  endif()
endforeach()

# Zig keeps frame pointers (-mframe-pointer=all); GCC's -O2 does not. glibc-symbols.h binds
# memcpy, strlen & co. to glibc's tuned versions instead of compiler_rt's generic ones. Without
# both the converter ran 10 % slower than the GCC build (benchmarks/build_compare.py).
# C++ only: C libraries (curl, nghttp2) set feature-test macros before their first system
# header, which a forced <string.h> would pre-empt (their wheel then lost fcntl64 and more).
set(CMAKE_C_FLAGS_INIT "-fomit-frame-pointer")
set(CMAKE_CXX_FLAGS_INIT "-fomit-frame-pointer -include ${CMAKE_CURRENT_LIST_DIR}/glibc-symbols.h")
set(CMAKE_C_COMPILER "${ALF_ZIG_WRAPPER_DIR}/zig-cc")
set(CMAKE_CXX_COMPILER "${ALF_ZIG_WRAPPER_DIR}/zig-c++")
set(CMAKE_AR "${ALF_ZIG_WRAPPER_DIR}/zig-ar" CACHE FILEPATH "archiver" FORCE)
set(CMAKE_RANLIB "${ALF_ZIG_WRAPPER_DIR}/zig-ranlib" CACHE FILEPATH "ranlib" FORCE)

# Everything but programs comes from the deps prefix only: never the host's /usr (its glibc
# headers and libraries are not the target's). The system prefixes (/usr/local, /usr, /) are
# searched re-rooted: <prefix>/lib/cmake...
set(CMAKE_FIND_ROOT_PATH "${ALF_DEPS_PREFIX}")
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
# Static dependencies only (the prefix has no .so, this makes it explicit).
set(OPENSSL_USE_STATIC_LIBS TRUE)
set(ZLIB_USE_STATIC_LIBS TRUE)

# The host runs x86_64 itself; anything else runs under qemu-user with an aarch64 glibc.
cmake_host_system_information(RESULT _alf_host QUERY OS_PLATFORM)
if(NOT _alf_host STREQUAL _alf_arch)
  find_program(ALF_QEMU NAMES qemu-${_alf_arch} qemu-${_alf_arch}-static)
  if(NOT ALF_QEMU_LD_PREFIX AND EXISTS "${ALF_DEPS_PREFIX}/qemu-ld-prefix")
    set(ALF_QEMU_LD_PREFIX "${ALF_DEPS_PREFIX}/qemu-ld-prefix" CACHE PATH "glibc root for qemu" FORCE)
  endif()
  if(ALF_QEMU)
    if(ALF_QEMU_LD_PREFIX)
      set(CMAKE_CROSSCOMPILING_EMULATOR "${ALF_QEMU};-L;${ALF_QEMU_LD_PREFIX}")
    else()
      set(CMAKE_CROSSCOMPILING_EMULATOR "${ALF_QEMU}")
    endif()
  endif()
endif()
