// 128-bit integers (GCC/Clang built-ins): Arrow decimal128 values and packed record ids.
#pragma once

namespace airtable_lakeflow {

__extension__ typedef __int128 int128;            // NOLINT(modernize-use-using)
__extension__ typedef unsigned __int128 uint128;  // NOLINT(modernize-use-using)

}  // namespace airtable_lakeflow
