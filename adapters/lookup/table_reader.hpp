#pragma once
// Table formats: bytes of a CMDB or whitelist export -> pipeline::TableData.
//   csv:  RFC 4180 through libcsv; the first row names the columns; blank lines and lines
//         starting with '#' are skipped; a UTF-8 byte-order mark is ignored.
//   yaml: a list of maps (one per row), through yaml-cpp.
//   json: an array of objects, or an object holding that array under "data", "items",
//         "rows" or "results" (the usual CMDB API envelopes), through RapidJSON.
// In yaml and json the columns are every key seen, in first-seen order; a missing key is
// an empty cell. Scalars of any type are taken as text. Errors name origin:line. Pure.

#include <string_view>

#include "plugin/config/config.hpp"
#include "plugin/core/result.hpp"
#include "plugin/pipeline/enrich/lookup_table.hpp"

namespace alertbridge::lookup {

core::Result<pipeline::TableData> readTable(std::string_view bytes, config::TableFormat format,
                                            std::string_view origin);

// The format for a file name or URL path (by extension) and an HTTP Content-Type (which
// wins when it says csv, yaml or json). kAuto when neither tells.
config::TableFormat detectFormat(std::string_view name, std::string_view content_type = {});

}  // namespace alertbridge::lookup
